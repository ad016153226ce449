#!/bin/sh
# a script with a line that looks like a boundary
echo "--==not-a-boundary==" > /run/user-script-ran
