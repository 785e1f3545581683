def fib(n):
    """Correct but exponential: fib(90) never finishes."""
    if n < 0:
        raise ValueError("n must be >= 0")
    return n if n < 2 else fib(n - 1) + fib(n - 2)
