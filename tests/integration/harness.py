"""The few pieces every integration test script shares.

A script registers cases with @case, and ends with
    sys.exit(run(__doc__, make_ctx, ["--labvisor", ...], precondition))
Each case is then one meson test (`script --list` names them); exit status
77 means skipped, and the reason is printed.
"""
import argparse

SKIP = 77
CASES = {}


class Skip(Exception):
    """Raised by a case that cannot run on this machine; the message says why."""


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def expect(cond, what, *context):
    if not cond:
        msg = "FAILED: " + what
        for c in context:
            msg += "\n---\n" + str(c)
        raise AssertionError(msg)


def run(doc, make_ctx, options, precondition=lambda name: None):
    """Parses the command line, runs one case; returns the exit status.

    options: the script's own --options, passed to make_ctx as a namespace.
    precondition(name): a reason to skip the case on this machine, or None.
    """
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("case", nargs="?")
    ap.add_argument("--list", action="store_true", help="print the case names")
    for opt in options:
        ap.add_argument(opt)
    a = ap.parse_args()
    if a.list:
        print("\n".join(CASES))
        return 0
    if a.case not in CASES:
        ap.error("unknown case %r" % a.case)
    try:
        why = precondition(a.case)
        if why:
            raise Skip(why)
        CASES[a.case](make_ctx(a))
    except Skip as e:
        print("SKIP: %s" % e)
        return SKIP
    except AssertionError as e:
        print(e)
        return 1
    print("ok: " + a.case)
    return 0
