"""The words: interface catalogs (gettext via Babel), catalog tooling, the lawyer sheet."""
