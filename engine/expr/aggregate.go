package expr

import "github.com/arroyogo/arroyo/engine/types"

type AggregateFunc struct {
	Name        string
	Description string
	Resolve     func(args []types.Type) (*ResolvedAggregate, error)
}
type ResolvedAggregate struct{}
