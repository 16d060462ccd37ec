"""Microsoft Teams, on the Bot Framework SDK: every botbuilder import stays in this package."""
