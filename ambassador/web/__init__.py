"""The HTTP boundary: parse the request, call the domain, render the answer."""
