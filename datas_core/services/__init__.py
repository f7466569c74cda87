"""Use cases over the app database. Every write goes through here, so each rule lives once."""
