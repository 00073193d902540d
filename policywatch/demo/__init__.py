"""The offline demo: a bundled replay of real policy pages, a loopback server, and the run that
drives policywatch through it end to end."""
