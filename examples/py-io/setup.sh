#!/bin/bash
# Runs once, as root with the network, on the Debian 12 image.
set -e
apt-get update
apt-get install -y --no-install-recommends python3
