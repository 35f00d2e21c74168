"""Exchange between delegations: keys, signed records, git sync and packets (EXCHANGE.md)."""
