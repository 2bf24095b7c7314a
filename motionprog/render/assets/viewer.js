// motionprog viewer: plays the motions embedded in #motion-data with three.js (inlined as #three-src).
// Units are metres, Y up; joints are [T][22][3] flattened; one body colour per motion.
const THREE = await import(
  URL.createObjectURL(new Blob([document.getElementById("three-src").textContent], { type: "text/javascript" }))
);
const data = JSON.parse(document.getElementById("motion-data").textContent);

const canvas = document.getElementById("view");
const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(window.devicePixelRatio || 1);
const scene = new THREE.Scene();
scene.background = new THREE.Color(0xf6f6f8);
scene.add(new THREE.HemisphereLight(0xffffff, 0x888890, 1.6));
const sun = new THREE.DirectionalLight(0xffffff, 1.6);
sun.position.set(3, 6, 4);
scene.add(sun);

// Floor: a grid covering the motion with a metre spacing.
const lo = new THREE.Vector3(...data.bounds[0]);
const hi = new THREE.Vector3(...data.bounds[1]);
const centre = lo.clone().add(hi).multiplyScalar(0.5);
const span = Math.ceil(Math.max(hi.x - lo.x, hi.z - lo.z) + 3);
const grid = new THREE.GridHelper(span, span, 0x777777, 0xbbbbbb);
grid.position.set(Math.round(centre.x), 0, Math.round(centre.z));
scene.add(grid);

// Static objects (scene objects and trails) are triangle meshes.
for (const obj of data.objects) {
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.Float32BufferAttribute(obj.vertices, 3));
  geometry.setIndex(obj.faces);
  geometry.computeVertexNormals();
  const [r, g, b, a] = obj.color;
  const material = new THREE.MeshStandardMaterial({
    color: new THREE.Color(r, g, b), transparent: a < 1, opacity: a, roughness: 0.7, side: THREE.DoubleSide,
  });
  scene.add(new THREE.Mesh(geometry, material));
}

// Bodies: the collision capsules, each an instanced cylinder and two end spheres, per motion.
const up = new THREE.Vector3(0, 1, 0);
const bodies = data.motions.map((motion) => {
  const material = new THREE.MeshStandardMaterial({ color: new THREE.Color(...motion.color), roughness: 0.6 });
  const cylinder = new THREE.CylinderGeometry(1, 1, 1, 12, 1, true);
  cylinder.translate(0, 0.5, 0);
  const tubes = new THREE.InstancedMesh(cylinder, material, data.capsules.length);
  const balls = new THREE.InstancedMesh(new THREE.SphereGeometry(1, 12, 8), material, 2 * data.capsules.length);
  scene.add(tubes, balls);
  return { motion, tubes, balls };
});

const matrix = new THREE.Matrix4();
const quaternion = new THREE.Quaternion();
const a = new THREE.Vector3();
const b = new THREE.Vector3();
const scale = new THREE.Vector3();
const none = new THREE.Quaternion();
// A capsule end is a weighted sum of joints: [[joint, coefficient], ...].
function landmark(motion, t, terms, out) {
  out.set(0, 0, 0);
  for (const [j, c] of terms) {
    const k = (t * 22 + j) * 3;
    out.x += c * motion.joints[k];
    out.y += c * motion.joints[k + 1];
    out.z += c * motion.joints[k + 2];
  }
  return out;
}
function pose(t) {
  for (const { motion, tubes, balls } of bodies) {
    const f = Math.min(t, motion.frames - 1);
    data.capsules.forEach(({ start, end, radius: r }, i) => {
      landmark(motion, f, start, a);
      landmark(motion, f, end, b);
      balls.setMatrixAt(2 * i, matrix.compose(a, none, scale.set(r, r, r)));
      balls.setMatrixAt(2 * i + 1, matrix.compose(b, none, scale.set(r, r, r)));
      b.sub(a);
      const length = b.length();
      quaternion.setFromUnitVectors(up, length > 1e-9 ? b.normalize() : up);
      tubes.setMatrixAt(i, matrix.compose(a, quaternion, scale.set(r, length, r)));
    });
    tubes.instanceMatrix.needsUpdate = true;
    balls.instanceMatrix.needsUpdate = true;
  }
}

// Orbit camera: drag rotates about the target, wheel zooms, shift-drag or right-drag pans.
const camera = new THREE.PerspectiveCamera(45, 1, 0.05, 500);
const target = centre.clone();
const orbit = { radius: Math.max(3.5, lo.distanceTo(hi) * 1.6), theta: 0.6, phi: 1.15 };
function placeCamera() {
  const s = Math.sin(orbit.phi);
  camera.position.set(
    target.x + orbit.radius * s * Math.sin(orbit.theta),
    target.y + orbit.radius * Math.cos(orbit.phi),
    target.z + orbit.radius * s * Math.cos(orbit.theta),
  );
  camera.lookAt(target);
}
let drag = null;
canvas.addEventListener("contextmenu", (e) => e.preventDefault());
canvas.addEventListener("pointerdown", (e) => {
  drag = { x: e.clientX, y: e.clientY, pan: e.shiftKey || e.button === 2 };
  canvas.setPointerCapture(e.pointerId);
});
canvas.addEventListener("pointerup", () => (drag = null));
canvas.addEventListener("pointermove", (e) => {
  if (!drag) return;
  const dx = e.clientX - drag.x;
  const dy = e.clientY - drag.y;
  drag.x = e.clientX;
  drag.y = e.clientY;
  if (drag.pan) {
    const right = new THREE.Vector3().setFromMatrixColumn(camera.matrix, 0);
    const upward = new THREE.Vector3().setFromMatrixColumn(camera.matrix, 1);
    const k = orbit.radius * 0.0015;
    target.addScaledVector(right, -dx * k).addScaledVector(upward, dy * k);
  } else {
    orbit.theta -= dx * 0.008;
    orbit.phi = Math.min(Math.PI - 0.05, Math.max(0.05, orbit.phi - dy * 0.008));
  }
  placeCamera();
});
canvas.addEventListener("wheel", (e) => {
  e.preventDefault();
  orbit.radius = Math.min(200, Math.max(0.5, orbit.radius * Math.exp(e.deltaY * 0.001)));
  placeCamera();
}, { passive: false });

// Playback: play/pause, scrub, speed; the frame counter shows the current frame.
const frames = Math.max(...data.motions.map((m) => m.frames));
const slider = document.getElementById("scrub");
const counter = document.getElementById("frame");
const button = document.getElementById("play");
const speed = document.getElementById("speed");
slider.max = frames - 1;
const state = { frame: 0, playing: frames > 1, clock: 0 };
window.motionprogViewer = state;
function show(t) {
  state.frame = t;
  slider.value = t;
  counter.textContent = `${t + 1} / ${frames}`;
  pose(t);
}
button.addEventListener("click", () => {
  state.playing = !state.playing;
  button.textContent = state.playing ? "pause" : "play";
});
slider.addEventListener("input", () => {
  state.playing = false;
  button.textContent = "play";
  show(Number(slider.value));
});
button.textContent = state.playing ? "pause" : "play";

function resize() {
  const { clientWidth: w, clientHeight: h } = canvas;
  if (canvas.width !== Math.floor(w * renderer.getPixelRatio()) || canvas.height !== Math.floor(h * renderer.getPixelRatio())) {
    renderer.setSize(w, h, false);
    camera.aspect = w / Math.max(h, 1);
    camera.updateProjectionMatrix();
  }
}
let last = performance.now();
function tick(now) {
  const dt = (now - last) / 1000;
  last = now;
  if (state.playing) {
    state.clock += dt * Number(speed.value) * data.fps;
    const step = Math.floor(state.clock);
    if (step > 0) {
      state.clock -= step;
      show((state.frame + step) % frames);
    }
  }
  resize();
  renderer.render(scene, camera);
  requestAnimationFrame(tick);
}
placeCamera();
show(0);
requestAnimationFrame(tick);
