package plan_test

import (
	"fmt"

	"github.com/cognito-autogroup/cognito-autogroup/plan"
	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

func ExamplePlanner_Plan() {
	rs, err := rules.Parse([]byte(`version: 1
defaultGroups: [customers]
rules:
  - name: staff
    when:
      emailDomain: example.com
    groups: [staff, wiki]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	users := []plan.User{
		{Username: "ana", Status: "CONFIRMED", Groups: []string{"wiki"},
			Attributes: map[string]string{"sub": "s-ana", "email": "ana@example.com", "email_verified": "true"}},
		{Username: "dan", Status: "CONFIRMED",
			Attributes: map[string]string{"sub": "s-dan", "email": "dan@mail.example.org", "email_verified": "true"}},
		{Username: "eve", Status: "UNCONFIRMED",
			Attributes: map[string]string{"sub": "s-eve", "email": "eve@example.com"}},
	}
	p := plan.NewPlanner(rs).Plan(plan.Pool{ID: "us-east-1_EXAMPLE"}, users)
	for _, u := range p.Users {
		fmt.Printf("%s: add %v (rules %v), skipped %v\n", u.Sub, u.Add, u.Rules, u.Skipped)
	}
	fmt.Printf("%d users, %d evaluated, %d skipped by status, %d memberships to add\n",
		p.Counts.Users, p.Counts.Evaluated, p.Counts.Skipped, p.Counts.Planned)
	// Output:
	// s-ana: add [staff] (rules [staff]), skipped [{wiki already_member}]
	// s-dan: add [customers] (rules [defaultGroups]), skipped []
	// 3 users, 2 evaluated, 1 skipped by status, 2 memberships to add
}
