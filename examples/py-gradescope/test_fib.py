"""The tests of the Fibonacci assignment (students write fib.py)."""
import signal
import unittest

from run_tests import weight


def too_slow(signum, frame):
    raise TimeoutError("took more than 2 seconds")


signal.signal(signal.SIGALRM, too_slow)


def fib_or_error():
    import fib
    return fib.fib


class TestFib(unittest.TestCase):
    def setUp(self):
        signal.alarm(2)         # one test may not hang the others

    def tearDown(self):
        signal.alarm(0)

    @weight(10)
    def test_small(self):
        """fib(0..5)"""
        fib = fib_or_error()
        self.assertEqual([fib(n) for n in range(6)], [0, 1, 1, 2, 3, 5])

    @weight(10)
    def test_twenty(self):
        """fib(20)"""
        self.assertEqual(fib_or_error()(20), 6765)

    @weight(20, "hidden")
    def test_large(self):
        """fib(90) fast"""
        self.assertEqual(fib_or_error()(90), 2880067194370816120)

    @weight(10)
    def test_negative(self):
        """fib(-1) raises ValueError"""
        with self.assertRaises(ValueError):
            fib_or_error()(-1)
