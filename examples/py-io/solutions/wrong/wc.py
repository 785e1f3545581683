import sys

data = sys.stdin.read()
print(len(data.splitlines()), len(data.split(" ")), len(data))
