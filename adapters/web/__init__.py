"""The local web playground: a chat page that talks to the same core, for trying Pairtime."""
