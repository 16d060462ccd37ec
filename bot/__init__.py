"""Assembly: settings, the aiohttp server with every route, and the `pairtime` command line."""
