package membership

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// UserAPI is the Cognito call a Reader makes. *cognitoidentityprovider.Client
// implements it; tests pass a small fake.
type UserAPI interface {
	AdminGetUser(ctx context.Context, in *cognitoidentityprovider.AdminGetUserInput, optFns ...func(*cognitoidentityprovider.Options)) (*cognitoidentityprovider.AdminGetUserOutput, error)
}

// OpGetUser is the operation Reader.GetUser calls, as Read.Op names it.
const OpGetUser = "AdminGetUser"

// UserStatusAttribute is the attribute under which trigger events carry the
// user's status. AdminGetUser returns the status outside the attributes, as
// UserStatus; GetUser puts it back under this name.
const UserStatusAttribute = "cognito:user_status"

// User is a user as Cognito holds it.
type User struct {
	// Username is the user's username in the pool.
	Username string
	// Attributes are the user's attributes by name, as AdminGetUser
	// returns them (sub, email, email_verified, custom:..., identities for
	// federated users), and UserStatusAttribute with Status, as trigger
	// events carry it.
	Attributes map[string]string
	// Status is the UserStatus, such as CONFIRMED or EXTERNAL_PROVIDER.
	Status string
	// Enabled is false for a user an administrator disabled.
	Enabled bool
}

// Sub returns the user's sub attribute.
func (u *User) Sub() string { return u.Attributes["sub"] }

// Reader reads users from Cognito, with the retries and the budget of an
// Adder. Build it with NewReader; it is immutable and safe for concurrent
// use. It holds nothing but the client and the options, so building one at
// start costs nothing.
type Reader struct {
	api UserAPI
	o   Options
}

// NewReader returns a Reader that calls api. Zero fields of o take the
// defaults (see Options); Concurrency and Wait do not apply to reads.
func NewReader(api UserAPI, o Options) *Reader {
	return &Reader{api: api, o: o.withDefaults()}
}

// Read is the outcome of reading a user.
type Read struct {
	// Op is the operation called: OpGetUser.
	Op string
	// User is what Cognito holds when Kind is KindOK, else nil.
	User *User
	// Kind is KindOK when the user was read and is the one asked for.
	Kind Kind
	// Err is nil when Kind is KindOK, else a *ReadError.
	Err error
	// Attempts counts the calls made.
	Attempts int
	// Duration is the time the read took, retries included.
	Duration time.Duration
	// Deadline is the end of the budget the read ran under: the earlier of
	// ctx's deadline and the start of the read plus Options.Budget. Give the
	// calls that follow for the same user (Adder.Add) a context with this
	// deadline, so that the read and they share one budget.
	Deadline time.Time
}

// GetUser reads the user from the pool with AdminGetUser, retried as
// Adder.Add retries an add, and checks that Cognito's user has the sub the
// caller expects (the sub of the event being handled): a user whose sub is
// not sub (or who has none) ends with KindSubMismatch and no User, so that
// an event about one user never decides for another. A user that does not
// exist ends with KindUserNotFound, a pool that does not exist with
// KindPoolNotFound.
func (r *Reader) GetUser(ctx context.Context, poolID, username, sub string) Read {
	run, cancel := newRun(ctx, &r.o, nil, nil)
	defer cancel()
	in := &cognitoidentityprovider.AdminGetUserInput{UserPoolId: &poolID, Username: &username}
	var out *cognitoidentityprovider.AdminGetUserOutput
	attempts, k, err := run.retry(func(ctx context.Context) error {
		o, err := r.api.AdminGetUser(ctx, in)
		out = o
		return err
	})
	read := Read{Op: OpGetUser, Kind: k, Attempts: attempts, Deadline: run.deadline}
	rerr := &ReadError{Op: OpGetUser, PoolID: poolID, Attempts: attempts, Err: err}
	switch {
	case k == KindGroupNotFound:
		// ResourceNotFoundException: for AdminGetUser, the pool.
		read.Kind = KindPoolNotFound
	case k != KindOK:
	case out == nil:
		read.Kind = KindUnknown
		rerr.Err = errNoAnswer
	default:
		u := newUser(out)
		if have := u.Sub(); have == "" || have != sub {
			read.Kind = KindSubMismatch
			rerr.WantSub, rerr.HaveSub = sub, have
			break
		}
		read.User = u
	}
	if read.Kind != KindOK {
		rerr.Kind = read.Kind
		read.Err = rerr
	}
	read.Duration = time.Since(run.start)
	return read
}

// newUser makes a User of AdminGetUser's answer.
func newUser(out *cognitoidentityprovider.AdminGetUserOutput) *User {
	u := &User{
		Username:   aws.ToString(out.Username),
		Attributes: make(map[string]string, len(out.UserAttributes)+1),
		Status:     string(out.UserStatus),
		Enabled:    out.Enabled,
	}
	for _, a := range out.UserAttributes {
		if a.Name != nil {
			u.Attributes[*a.Name] = aws.ToString(a.Value)
		}
	}
	if u.Status != "" {
		u.Attributes[UserStatusAttribute] = u.Status
	}
	return u
}
