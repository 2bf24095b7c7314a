"""Primitive and mesh signed distances: closed forms, finite-difference gradients, singular points."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import trimesh

from motionprog.errors import InputError
from motionprog.geometry import Box, Cylinder, Line, Plane, Point, Sphere, rotation_matrix
from motionprog.geometry.mesh import Mesh
from motionprog.geometry.mesh_file import face_vertices
from motionprog.geometry.distances import box_signed_distance, line_distance

D = torch.float64


def pts(*rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=D, requires_grad=True)


def grad_of(obj, points: torch.Tensor) -> torch.Tensor:
    points = points.detach().requires_grad_(True)
    obj.signed_distance(points).sum().backward()
    return points.grad


def test_point_ten_cm_above_plane():
    plane = Plane((0.0, 1.0, 0.0), (0.0, 2.0, 0.0))  # normal normalised
    p = pts([0.3, 1.10, -2.0], [0.0, 0.9, 0.0])
    assert plane.above(p).tolist() == pytest.approx([0.10, -0.10])
    assert plane.below(p).tolist() == pytest.approx([-0.10, 0.10])
    assert torch.allclose(plane.closest_point(p)[:, 1], torch.ones(2, dtype=D))
    assert grad_of(plane, p).tolist() == [[0.0, 1.0, 0.0]] * 2


def test_box_faces_edges_corners_and_inside():
    box = Box((0.0, 1.0, 0.0), (2.0, 0.4, 1.0))  # half sizes (1, 0.2, 0.5)
    d = 0.1
    p = pts([0.0, 1.2 + d, 0.0], [1.0 + d, 1.2 + d, 0.0], [1.0 + d, 1.2 + d, 0.5 + d], [0.0, 1.0, 0.0], [0.5, 1.1, 0.0])
    assert box.signed_distance(p).tolist() == pytest.approx([d, math.sqrt(2) * d, math.sqrt(3) * d, -0.2, -0.1])
    assert (box.top, box.bottom) == pytest.approx((1.2, 0.8))
    assert box.min == pytest.approx((-1.0, 0.8, -0.5)) and box.max == pytest.approx((1.0, 1.2, 0.5))


def test_rotated_box_matches_local_frame():
    box = Box((1.0, 0.0, 2.0), (2.0, 1.0, 0.5), rotation=90.0)  # yaw 90: local x -> world -z
    # 0.3 m beyond the local +x face, which after the yaw faces world -z.
    p = pts([1.0, 0.0, 2.0 - 1.3])
    assert box.signed_distance(p).item() == pytest.approx(0.3)
    assert torch.allclose(grad_of(box, p), torch.tensor([[0.0, 0.0, -1.0]], dtype=D), atol=1e-12)


def test_box_gradcheck_regular_points_and_across_a_face():
    box = Box((0.2, 0.5, -0.1), (1.0, 0.6, 0.8), rotation=(10.0, 25.0, -5.0))
    p = torch.tensor([[1.3, 0.9, 0.4], [0.3, 0.55, -0.05], [-0.9, -0.2, 0.7], [0.2, 0.5, 0.29]], dtype=D,
                     requires_grad=True)
    assert torch.autograd.gradcheck(box.signed_distance, (p,))
    # On the +y face the SDF is differentiable (gradient = the face normal from both sides).
    upright = Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    assert torch.allclose(grad_of(upright, pts([0.1, 0.5, 0.2])), torch.tensor([[0.0, 1.0, 0.0]], dtype=D))


@pytest.mark.parametrize("point, norm", [
    ([0.0, 0.0, 0.0], 0.0),            # centre: 0 lies in the subdifferential (hull of the face normals)
    ([0.5, 0.5, 0.0], math.sqrt(0.5)),  # edge: the mean of the two face normals
    ([0.5, 0.5, 0.5], math.sqrt(1 / 3)),  # corner: the mean of three
    ([0.5, 0.0, 0.0], 1.0),            # face centre
    ([0.0, 0.0, 0.3], 1.0),            # inside, off-centre: the nearest face's normal
])
def test_box_singular_points_have_finite_subgradients(point, norm):
    box = Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    g = grad_of(box, pts(point))
    assert torch.isfinite(g).all()
    assert g.norm().item() == pytest.approx(norm)


def test_box_function_broadcasts():
    points = torch.randn(7, 3, 1, 3)
    centers = torch.randn(5, 3)
    out = box_signed_distance(points, centers, torch.ones(3), torch.eye(3))
    assert out.shape == (7, 3, 5)


def test_sphere_values_gradients_and_centre():
    ball = Sphere((0.0, 1.0, 0.0), 0.5)
    p = pts([0.0, 1.0, 0.8], [0.0, 1.0, 0.0])
    assert ball.signed_distance(p).tolist() == pytest.approx([0.3, -0.5])
    g = grad_of(ball, p)
    assert g[0].tolist() == pytest.approx([0.0, 0.0, 1.0]) and g[1].abs().sum() == 0
    assert torch.allclose(ball.closest_point(p), torch.tensor([[0.0, 1.0, 0.5], [0.0, 1.0, 0.0]], dtype=D))
    assert (ball.top, ball.bottom) == (1.5, 0.5)
    q = torch.tensor([[0.3, 1.2, -0.1], [1.0, 0.0, 1.0]], dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(ball.signed_distance, (q,))


def test_cylinder_closed_forms_and_singular_axis():
    pillar = Cylinder((0.0, 1.0, 0.0), radius=0.2, height=2.0)  # y in [0, 2]
    d = 0.1
    p = pts([0.0, 2.0 + d, 0.0], [0.2 + d, 1.0, 0.0], [0.2 + d, 2.0 + d, 0.0], [0.0, 1.0, 0.0], [0.0, 1.9, 0.0])
    assert pillar.signed_distance(p).tolist() == pytest.approx([d, d, math.sqrt(2) * d, -0.2, -0.1])
    assert torch.isfinite(grad_of(pillar, p)).all()
    assert (pillar.top, pillar.bottom) == pytest.approx((2.0, 0.0))
    lying = Cylinder((0.0, 0.5, 0.0), radius=0.5, height=4.0, rotation=(0.0, 0.0, 90.0))
    assert (lying.top, lying.bottom) == pytest.approx((1.0, 0.0))
    q = torch.tensor([[0.5, 1.4, 0.3], [0.05, 0.2, -0.1], [0.1, -0.5, 0.6]], dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(Cylinder((0.1, 0.4, 0.0), 0.3, 1.0, rotation=(20.0, 0.0, 10.0)).signed_distance, (q,))


def test_segment_and_infinite_line():
    seg = Line((0.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    line = Line((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), segment=False)
    p = pts([0.5, 0.3, 0.0], [2.0, 0.0, 0.4], [0.0, 0.0, 0.0])
    assert seg.signed_distance(p).tolist() == pytest.approx([0.3, math.hypot(1.0, 0.4), 0.0])
    assert line.signed_distance(p).tolist() == pytest.approx([0.3, 0.4, 0.0])
    assert torch.isfinite(grad_of(seg, p)).all()
    q = torch.tensor([[0.5, 0.3, 0.2], [2.0, -0.1, 0.4], [-0.7, 0.2, 0.0]], dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(seg.signed_distance, (q,))
    assert torch.autograd.gradcheck(line.signed_distance, (q,))
    # Degenerate segment (tensor form): distance to its single point, finite gradient.
    a = torch.zeros(3, dtype=D, requires_grad=True)
    line_distance(q, a, a).sum().backward()
    assert torch.isfinite(a.grad).all()


def test_point_distance_and_gradient_at_the_point():
    goal = Point((0.0, 0.0, 5.0))
    p = pts([0.0, 0.0, 5.0], [3.0, 0.0, 1.0])
    assert goal.signed_distance(p).tolist() == pytest.approx([0.0, 5.0])
    assert torch.isfinite(grad_of(goal, p)).all()


def test_to_dict_is_json_and_transform_moves_objects():
    box = Box((1.0, 0.5, 0.0), (1.0, 1.0, 2.0)).transform(position=(0.0, 0.0, 3.0), rotation=90.0, scale=2.0)
    assert box.center == pytest.approx((0.0, 1.0, 1.0))  # R_y(90) (2, 1, 0) = (0, 1, -2); + (0, 0, 3)
    assert box.size == (2.0, 2.0, 4.0)
    assert box.max[0] == pytest.approx(2.0)  # the 4 m side now lies along x
    for obj in (box, Sphere((0, 1, 0), 0.3), Cylinder((0, 1, 0), 0.2, 2.0), Plane((0, 0, 0)),
                Line((0, 0, 0), (1, 0, 0)), Point((1, 2, 3))):
        data = json.loads(json.dumps(obj.to_dict()))
        assert data["kind"] == type(obj).__name__.lower()
    assert Plane((0, 0, 0)).transform(rotation=(0.0, 0.0, 90.0)).normal == pytest.approx((-1.0, 0.0, 0.0))


def test_rotation_conventions():
    assert torch.allclose(torch.tensor(rotation_matrix(90.0), dtype=D) @ torch.tensor([0.0, 0.0, 1.0], dtype=D),
                          torch.tensor([1.0, 0.0, 0.0], dtype=D), atol=1e-12)
    assert rotation_matrix((0.0, 30.0, 0.0)) == rotation_matrix(30.0)


@pytest.mark.parametrize("make", [
    lambda: Box((0, 0, 0), (1, -1, 1)),
    lambda: Sphere((0, 0, 0), 0.0),
    lambda: Plane((0, 0, 0), (0, 0, 0)),
    lambda: Line((1, 1, 1), (1, 1, 1)),
    lambda: Box((0, 0), (1, 1, 1)),
    lambda: Box((0, 0, 0), (1, 1, 1), rotation=((1, 0, 0), (0, 2, 0), (0, 0, 1))),
])
def test_invalid_parameters_raise_input_error(make):
    with pytest.raises(InputError):
        make()


# -- meshes -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mesh_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("meshes")
    trimesh.creation.box(extents=(1.0, 0.5, 0.8)).export(folder / "box.obj")
    trimesh.creation.icosphere(subdivisions=3, radius=0.5).export(folder / "ball.stl")
    trimesh.creation.cylinder(radius=0.3, height=1.0).export(folder / "pillar.glb")
    trimesh.creation.box(extents=(0.6, 0.6, 0.6)).export(folder / "cube.ply")
    trimesh.PointCloud(np.random.default_rng(0).normal(size=(20, 3))).export(folder / "cloud.ply")
    (folder / "garbage.glb").write_bytes(b"\x00not a mesh\xff" * 10)
    return folder


@pytest.mark.parametrize("name", ["box.obj", "ball.stl", "pillar.glb", "cube.ply"])
def test_mesh_sdf_matches_trimesh_within_grid_spacing(mesh_files, name):
    mesh = Mesh(mesh_files / name, resolution=16)
    exact_mesh = trimesh.load(mesh_files / name, force="mesh")
    points = np.random.default_rng(1).uniform(-0.65, 0.65, size=(300, 3))
    exact = -trimesh.proximity.signed_distance(exact_mesh, points)
    ours = mesh.signed_distance(torch.tensor(points, dtype=D)).numpy()
    assert mesh.watertight
    assert np.abs(ours - exact).max() <= mesh.grid.spacing
    assert (np.sign(ours) == np.sign(exact))[np.abs(exact) > mesh.grid.spacing].all()


def test_mesh_outside_grid_and_placement(mesh_files):
    mesh = Mesh(mesh_files / "box.obj", resolution=16)
    far = torch.tensor([[3.0, 0.0, 0.0]], dtype=D)
    assert mesh.signed_distance(far).item() == pytest.approx(2.5, abs=1e-6)  # box half-width 0.5
    placed = mesh.transform(position=(2.0, 0.0, 0.0), rotation=90.0)  # x extent 1.0 now along z
    assert placed.max == pytest.approx((2.4, 0.25, 0.5)) and placed.top == pytest.approx(0.25)
    probe = torch.tensor([[2.0, 0.0, 0.9]], dtype=D)
    assert placed.signed_distance(probe).item() == pytest.approx(0.4, abs=placed.grid.spacing)
    assert placed.to_dict()["kind"] == "mesh" and placed.to_dict()["position"] == [2.0, 0.0, 0.0]
    assert mesh.grid is mesh.grid  # cached per file, placement and resolution


def test_mesh_sdf_gradients(mesh_files):
    mesh = Mesh(mesh_files / "ball.stl", resolution=16)
    points = torch.tensor([[0.11, 0.23, -0.31], [0.62, -0.05, 0.1], [1.7, 0.4, -2.0]], dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(mesh.signed_distance, (points,), fast_mode=True)
    node = torch.tensor(mesh.grid.origin + mesh.grid.spacing * np.array([8, 8, 3]), dtype=D, requires_grad=True)
    mesh.signed_distance(node).backward()
    assert torch.isfinite(node.grad).all()
    radial = torch.tensor([0.35, 0.0, 0.0], dtype=D, requires_grad=True)
    mesh.signed_distance(radial).backward()
    assert radial.grad[0].item() == pytest.approx(1.0, abs=0.15)  # points outward, |grad| ~ 1
    assert mesh.signed_distance(torch.zeros(4, 5, 3, dtype=D)).shape == (4, 5)


@pytest.mark.parametrize("name, message", [
    ("missing.obj", "not found"), ("garbage.glb", "cannot read"), ("cloud.ply", "no triangles"),
])
def test_bad_mesh_files_raise_input_error_naming_the_file(mesh_files, name, message):
    with pytest.raises(InputError, match=message) as error:
        Mesh(mesh_files / name)
    assert name in str(error.value)


def test_mesh_files_are_measured_without_trimesh_as_trimesh_reads_them(mesh_files, tmp_path):
    (tmp_path / "quads.obj").write_text("v 9 9 9\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 2\nvt 0 0\nvn 0 0 1\n"
                                        "f 2/1/1 3/1/1 4/1/1 5/1/1\nf -5//1 -4//1 -1//1\n")  # vertex 1 unused
    trimesh.creation.icosphere(subdivisions=1).export(tmp_path / "ball.stl", file_type="stl_ascii")
    for path in (tmp_path / "quads.obj", tmp_path / "ball.stl", *(mesh_files / n for n in ("box.obj", "ball.stl", "cube.ply"))):
        ours, theirs = face_vertices(path), trimesh.load(path, force="mesh")
        assert np.array_equal(ours.min(0), theirs.bounds[0]) and np.array_equal(ours.max(0), theirs.bounds[1]), path
    assert face_vertices(tmp_path / "quads.obj").max(0).tolist() == [1.0, 1.0, 2.0]


def test_mesh_load_places_the_file(mesh_files):
    mesh = Mesh.load(mesh_files / "box.obj", position=(0.0, 0.25, 0.0), rotation=(0.0, 0.0, 0.0), scale=2.0)
    assert mesh.bottom == pytest.approx(-0.25) and mesh.top == pytest.approx(0.75)
    assert mesh.center == pytest.approx((0.0, 0.25, 0.0))


def test_closest_points_and_remaining_gradchecks():
    box = Box((0.0, 1.0, 0.0), (2.0, 0.4, 1.0), rotation=30.0)
    outside = torch.tensor([[3.0, 2.0, 0.5], [-0.2, 0.2, 0.1]], dtype=D)
    closest = box.closest_point(outside)
    assert torch.allclose((outside - closest).norm(dim=-1), box.signed_distance(outside))
    assert torch.allclose(box.signed_distance(closest), torch.zeros(2, dtype=D), atol=1e-12)
    inside = torch.tensor([[0.1, 1.05, 0.0]], dtype=D)
    assert torch.equal(box.closest_point(inside), inside)
    seg = Line((0.0, 0.0, 0.0), (0.0, 2.0, 0.0))
    assert seg.closest_point(torch.tensor([[1.0, 3.0, 0.0]], dtype=D)).tolist() == [[0.0, 2.0, 0.0]]
    q = torch.tensor([[0.3, 1.2, -0.1], [1.0, 0.0, 1.0]], dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(Point((0.1, 0.2, 0.3)).signed_distance, (q,))
    assert torch.autograd.gradcheck(Plane((0.0, 1.0, 0.0), (0.2, 1.0, 0.1)).signed_distance, (q,))
