"""Object storage for uploaded files: a local directory by default."""
