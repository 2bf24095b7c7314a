"""The body: skeleton, rotations, kinematics, HumanML3D features, centre of mass."""
