package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arroyogo/arroyo/controlplane/store"
)

func newMigrate(configFile *string) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring the metadata database's schema up to date",
		Long: `Migrate applies the schema migrations the configured metadata database
(database.type sqlite or postgres) has not had yet, each in its own
transaction, and says which. Running it again changes nothing. The API and
the controller also migrate when they start; this runs it explicitly, e.g.
before a rolling upgrade.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadControlPlaneConfig(*configFile)
			if err != nil {
				return err
			}
			sc, where, err := storeConfig(cfg.Database)
			if err != nil {
				return err
			}
			st, err := store.Open(cmdContext(cmd), sc)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := st.SchemaVersion(cmdContext(cmd))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if applied := st.Applied(); len(applied) > 0 {
				vs := make([]string, len(applied))
				for i, a := range applied {
					vs[i] = strconv.Itoa(a)
				}
				fmt.Fprintf(out, "%s: applied migrations %s; schema version %d\n", where, strings.Join(vs, ", "), v)
				return nil
			}
			fmt.Fprintf(out, "%s: schema up to date (version %d)\n", where, v)
			return nil
		},
	}
}
