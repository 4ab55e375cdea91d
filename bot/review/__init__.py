"""Legal review records: expiry policy, checker warnings, the reviewer's packet and sign-off."""
