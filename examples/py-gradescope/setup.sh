#!/bin/bash
# Gradescope's setup step: runs once, as root, with the network, to build the image.
set -e
apt-get update
apt-get install -y --no-install-recommends python3
