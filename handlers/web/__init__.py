"""The browser door: the connect-link pages and the OAuth callbacks (later, the admin plugin)."""
