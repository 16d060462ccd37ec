"""Slack: slash command, mentions, direct messages, buttons, App Home and the shortcut modal."""
