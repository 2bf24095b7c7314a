"""The standard library of constraint definitions, shipped as the package `motionprog.constraints`."""
