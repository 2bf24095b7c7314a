"""The motionprog grammar, shipped inside the wheel as the package `motionprog.grammar`."""
