"""`kb serve`: the search API, the embeddable widget, the event collector and the static site."""
