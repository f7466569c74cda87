"""The `datas` command line (operators)."""
