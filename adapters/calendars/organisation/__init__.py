"""Organisation connections: one grant from IT reads everyone it covers (Google Workspace
domain-wide delegation, a Microsoft 365 app with an application permission, an Exchange
Server account), beside the personal connections of the other calendar adapters."""
