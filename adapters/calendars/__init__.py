"""Calendar providers: connecting one calendar per person, and reading busy times.

Only time ranges and their status leave this package: never event titles,
descriptions, attendees or tokens.
"""
