"""Certificate-level helpers: DNs, chains, and request/certificate building that works with token keys too."""
