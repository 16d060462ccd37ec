"""Adapters between the outside world (chat platforms, calendars, the web) and core/."""
