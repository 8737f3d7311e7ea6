"""Auth: users, passwords, per-brand roles, API tokens, browser sessions and CSRF."""
