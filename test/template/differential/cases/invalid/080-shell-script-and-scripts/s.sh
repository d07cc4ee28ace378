#!/bin/sh
echo "running $0"
