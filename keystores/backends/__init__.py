"""One adapter per format. A backend knows its bytes and nothing above it; heavy imports happen inside it."""
