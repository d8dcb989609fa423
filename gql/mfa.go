package gql

import "github.com/fixgraph/fixgraph"

// user returns the account name as an admin's list shows it, with its MFA and lock.
func (r *Resolver) user(name string) (*fixgraph.User, error) {
	users, err := r.Accounts.Users()
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Name == name {
			return u, nil
		}
	}
	return nil, fixgraph.Errorf(fixgraph.ENOTFOUND, "no user %q", name)
}

// mfaRoles returns the roles that require a second factor, as strings.
func (r *Resolver) mfaRoles() ([]string, error) {
	roles, err := r.Accounts.MFARoles()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(roles))
	for i, role := range roles {
		out[i] = string(role)
	}
	return out, nil
}
