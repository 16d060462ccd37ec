"""Email: invitations (iMIP) composed with the standard library and sent over SMTP."""
