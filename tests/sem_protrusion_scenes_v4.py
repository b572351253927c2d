"""Independent synthetic SEM test-scene generator (v4) for grading a protrusion detector (issue 13).

Written by a helper session only from the following description (quoted), not from the detector's
code nor from the project's other generators (``sem_protrusion_scenes*.py``, ``sem_synth*.py``). Its
substrates differ in kind from theirs: packed particles, a two-phase porous texture, a film with pits,
an anisotropic grain and a texture whose rms varies across the field. Scored by
``bench/bench_sem_pod_v4.py`` and ``tests/test_protrusions_pod_v4.py``.

The description:

    An SEM secondary-electron image of a coated surface (battery electrode coatings,
    ceramic coatings, sputtered films), 1024 x 768 pixels, 8-bit (also try a 16-bit
    variant for some images), pixel size between 0.01 and 2 um. The pixel size is
    calibration only: draw the same pixel-scale scene and call the detector at pixel
    sizes 0.01, 0.1 and 2.0 um.
    - Substrates (choose per image; make these DIFFERENT in character from plain
      smoothed Gaussian noise): (a) a packed-particle coating: many small touching
      roundish particles 3-10 px across with random brightness and dark gaps between
      them; (b) a porous/sponge texture: thresholded smoothed noise giving bright
      struts and dark pores; (c) a smooth film with fine grain plus sparse small dark
      pits; (d) an anisotropic texture (elongated grains, e.g. rolled/brushed,
      correlation 2-4x longer along one direction); (e) a texture whose local rms
      varies slowly across the field by a factor up to 2 (patchy charging/roughness).
      Add SEM effects: Poisson shot noise, mild scan-line noise (row offsets), a slow
      brightness drift (gradient, up to +-15 % of the mean), and optionally a slight
      Gaussian blur (beam spot, sigma 0.5-1 px).
    - Protrusions: bright roundish bumps of diameter D px with peak contrast C = the
      bump's peak added brightness divided by the substrate's rms at pixel level (rms
      of the object-free, shading-free substrate image with noise). Profiles chosen at
      random: spherical cap, Gaussian (visible diameter D ~ 2 x FWHM... choose a
      sensible convention and document it), a cone/pyramid-ish faceted bump, and a
      bump with SEM "edge effect" (a brighter rim of 1-3 px plus a dark shadow
      crescent on one side, as from a side-mounted Everhart-Thornley detector; the
      shadow at most ~0.5 of the peak). Aspect ratio up to 1.5. The substrate texture
      continues on top of the bump. Bumps do not overlap (centres >= 1.2 x sum of
      radii apart), lie fully inside the frame. Number per image: enough to cover the
      image sparsely (e.g. ~6-40 depending on D).
    - Object-free images: same substrates and effects, no bumps.

Choices made (all in pixel units; the scene never depends on the pixel size):

* Frame 1024 (columns, x) x 768 (rows, y).  Brightness is built in 8-bit grey units;
  about 25 % of scenes (random per scene) are written as uint16 by multiplying the
  final float image by 256 (so the 16-bit images carry the same information scaled).
* Base mean level mu ~ U(70, 110) grey.  Each substrate is a zero-mean, unit-std
  texture field T scaled by an amplitude s (grey):
    - 'particles'  (a): jittered hexagonal seed lattice (spacing 0.85 x mean particle
      diameter), particle diameters U(dmin, dmax) with dmin ~ U(3,5), dmax ~ U(6,10)
      px; pixels assigned to particles by a power diagram (min d^2 - r^2 over the 4
      nearest seeds); inside a particle the value is b_i*(0.6+0.4*sqrt(1-(d/r)^2))
      with b_i ~ U(0.45, 1); outside every particle's radius the pixel is a dark gap
      (value 0).  s ~ U(10, 16).
    - 'sponge' (b): Gaussian-smoothed white noise (sigma U(1.5, 4) px) passed through
      a steep sigmoid at the U(0.35, 0.6) quantile -> bright struts / dark pores,
      plus an SEM-like edge brightening (0.4 x normalised gradient magnitude).
      s ~ U(10, 16).
    - 'film_pits' (c): fine grain (white noise smoothed with sigma U(0.7, 1.5) px)
      plus sparse dark pits (density 1/3000..1/800 px^-2, radius U(1, 3) px, Gaussian
      depth 3-6 grain-std).  Low amplitude s ~ U(3, 6): shot noise dominates.
    - 'anisotropic' (d): white noise filtered in Fourier space by an anisotropic
      Gaussian with sigma_short ~ U(1, 2.5) px and sigma_long = U(2, 4) x sigma_short,
      long axis at a random angle.  s ~ U(6, 12).
    - 'varying_rms' (e): smoothed noise (sigma U(1, 2.5) px) multiplied by a slow
      envelope 1 + (f-1)*E, E in [0,1] from noise smoothed at sigma 150 px, f ~ U(1.5,
      2).  The factor applies to the texture; shot noise is not modulated, so the
      local rms of texture+noise varies by somewhat less than f.  s ~ U(7, 11) for
      the envelope-1 part (texture-dominated so the variation is visible).
* SEM effects, in this order: clean = mu*shading + s*T + A*bumps; optional beam blur
  (probability 0.6, Gaussian sigma U(0.5, 1.0) px) applied to the clean signal;
  Poisson shot noise with gain g ~ U(0.3, 1.0) grey/electron (noisy = g*Poisson(clean/g),
  i.e. shot-noise std sqrt(g*level), ~5-10 grey at the mean); scan-line noise = per-row
  offsets N(0, sigma_l), sigma_l ~ U(0.5, 2) grey; round and clip to [0, 255] (8-bit)
  or x256 and clip to [0, 65535] (16-bit).  Shading = 1 + a*ramp where ramp is a
  linear gradient in a random direction spanning [-1, 1] across the frame and
  a ~ U(0, 0.15)  (drift up to +-15 % of the mean).
* Contrast: rms is the standard deviation of a separately rendered reference image
  of the same scene with the same mu, texture, blur, gain and scan-line sigma but
  shading == 1, no bumps and a fresh noise draw (after quantisation).  The bump
  amplitude A = C * rms (in the output units' 8-bit-equivalent scale), applied to a
  profile normalised to peak value 1.  The rms is global over the frame, also for
  the anisotropic and varying-rms substrates (debatable: locally the bump may be at
  higher or lower contrast than C).  A is added before blur, so the blur lowers the
  effective peak slightly (negligible for D >= 16 except for the 1-3 px rim).
* Bump geometry: D is the equivalent-circle diameter; with aspect ratio
  ar ~ U(1, 1.5) the semi-axes are a = (D/2)*sqrt(ar), b = (D/2)/sqrt(ar), at a random
  orientation.  rho is the normalised elliptical radius (rho = 1 on the ellipse).
  Non-overlap uses the major semi-axis a as 'radius': centres >= 1.2*(a_i + a_j)
  apart; fully inside: centre >= a + 2 px from every border.
* Profiles (peak normalised to 1, then multiplied by A):
    - 'cap': spherical cap p = (sqrt(1-k rho^2) - sqrt(1-k)) / (1 - sqrt(1-k)),
      k ~ U(0.4, 1) (k = 1 is a hemisphere), 0 outside rho = 1.
    - 'gaussian': convention D = 2 x FWHM, i.e. the half-maximum contour is at
      rho = 0.5 and the value at rho = 1 (the nominal edge) is 1/16:
      p = 2^(-4 rho^2), not truncated.
    - 'pyramid': n-sided (n in {4,5,6,8}) pyramid / frustum, randomly rotated, with
      the polygon sized to have the area of the ellipse; p = min(1, (1-rho_poly)/(1-t)),
      t ~ U(0, 0.4) (flat top fraction); each facet gets a brightness factor
      1 + 0.2*cos(facet normal angle - detector angle) (facets facing the detector
      brighter); renormalised to peak 1.
    - 'edge': SEM edge effect: interior plateau L*(0.8 + 0.2*sqrt(1-rho^2)) with
      L ~ U(0.5, 0.8), a bright rim of width w ~ U(1, 3) px just inside the edge
      (Gaussian ring, peak 1, brighter on the detector side by up to 20 %), then
      renormalised to peak 1; a dark shadow crescent just outside the edge on the
      side opposite the detector: depth U(0.2, 0.5) x peak, radial width
      U(0.15, 0.35)*R + 2 px, angular weight max(0, cos(angle - shadow angle))^1.5.
      The detector direction is fixed per image.
* Number of bumps per image: N = clip(round(0.10*W*H/(pi*(D/2)^2)), 6, 40) (about
  6 % - 10 % area coverage); one D per scene, C drawn per bump from the check's set,
  profile drawn per bump uniformly from the four; rejection sampling (may place
  fewer if it runs out of attempts; the truth table is what was placed).
* Randomness: every scene uses np.random.default_rng([seed, scene_index]), so each
  scene is reproducible on its own regardless of processing order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

W, H = 1024, 768
SUBSTRATES = ("particles", "sponge", "film_pits", "anisotropic", "varying_rms")
PROFILES = ("cap", "gaussian", "pyramid", "edge")


# ----------------------------------------------------------------------------- textures
def _unit(x):
    x = x - x.mean()
    s = x.std()
    return x / s if s > 0 else x


def _smooth_noise(rng, sigma, shape=(H, W)):
    return _unit(ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap"))


def tex_particles(rng, rec=None):
    dmin, dmax = rng.uniform(3, 5), rng.uniform(6, 10)
    if rec is not None:
        rec.update(tex_dmin=float(dmin), tex_dmax=float(dmax))
    spacing = 0.85 * 0.5 * (dmin + dmax)
    dy = spacing * math.sqrt(3) / 2
    rows = np.arange(-2 * dy, H + 2 * dy, dy)
    pts = []
    for i, y in enumerate(rows):
        xs = np.arange(-2 * spacing, W + 2 * spacing, spacing) + (spacing / 2 if i % 2 else 0)
        pts.append(np.column_stack([np.full_like(xs, y), xs]))
    pts = np.concatenate(pts)
    pts += rng.uniform(-0.35, 0.35, pts.shape) * spacing
    rad = rng.uniform(dmin, dmax, len(pts)) / 2
    bright = rng.uniform(0.45, 1.0, len(pts))
    tree = cKDTree(pts)
    yy, xx = np.mgrid[0:H, 0:W]
    q = np.column_stack([yy.ravel(), xx.ravel()]).astype(float)
    d, idx = tree.query(q, k=4)
    power = d ** 2 - rad[idx] ** 2
    j = np.argmin(power, axis=1)
    sel = idx[np.arange(len(q)), j]
    dd = d[np.arange(len(q)), j]
    r = rad[sel]
    inside = dd < r
    val = np.zeros(len(q))
    val[inside] = bright[sel[inside]] * (0.6 + 0.4 * np.sqrt(1 - (dd[inside] / r[inside]) ** 2))
    return _unit(val.reshape(H, W))


def tex_sponge(rng, rec=None):
    sig = rng.uniform(1.5, 4.0)
    n = _smooth_noise(rng, sig)
    q = rng.uniform(0.35, 0.6)
    thr = np.quantile(n, q)
    if rec is not None:
        rec.update(tex_sigma=float(sig), tex_pore_fraction=float(q))
    v = 1.0 / (1.0 + np.exp(-(n - thr) / 0.12))
    g = np.hypot(ndimage.sobel(v, 0), ndimage.sobel(v, 1))
    v = v + 0.4 * g / (g.max() + 1e-12)
    return _unit(v)


def tex_film_pits(rng, rec=None):
    gs = rng.uniform(0.7, 1.5)
    grain = _smooth_noise(rng, gs)
    if rec is not None:
        rec.update(tex_sigma=float(gs))
    dens = rng.uniform(1 / 3000, 1 / 800)
    npits = rng.poisson(dens * W * H)
    pits = np.zeros((H, W))
    ys, xs = rng.uniform(0, H, npits), rng.uniform(0, W, npits)
    for y, x in zip(ys, xs):
        r = rng.uniform(1, 3)
        depth = rng.uniform(3, 6)
        h = int(math.ceil(2.5 * r))
        y0, y1 = max(0, int(y) - h), min(H, int(y) + h + 1)
        x0, x1 = max(0, int(x) - h), min(W, int(x) + h + 1)
        gy, gx = np.mgrid[y0:y1, x0:x1]
        pits[y0:y1, x0:x1] -= depth * np.exp(-((gy - y) ** 2 + (gx - x) ** 2) / (2 * (r / 1.2) ** 2))
    return _unit(grain + pits)


def tex_anisotropic(rng, rec=None):
    s_short = rng.uniform(1.0, 2.5)
    s_long = s_short * rng.uniform(2.0, 4.0)
    th = rng.uniform(0, np.pi)
    if rec is not None:
        rec.update(tex_sigma_short=float(s_short), tex_sigma_long=float(s_long), tex_angle=float(th))
    fy = np.fft.fftfreq(H)[:, None]
    fx = np.fft.fftfreq(W)[None, :]
    u = fx * math.cos(th) + fy * math.sin(th)  # along the long axis
    v = -fx * math.sin(th) + fy * math.cos(th)
    G = np.exp(-2 * np.pi ** 2 * (s_long ** 2 * u ** 2 + s_short ** 2 * v ** 2))
    n = np.fft.ifft2(np.fft.fft2(rng.standard_normal((H, W))) * G).real
    return _unit(n)


def tex_varying_rms(rng, rec=None):
    bs = rng.uniform(1.0, 2.5)
    base = _smooth_noise(rng, bs)
    if rec is not None:
        rec.update(tex_sigma=float(bs))
    e = ndimage.gaussian_filter(rng.standard_normal((H, W)), 150, mode="reflect")
    e = (e - e.min()) / (e.max() - e.min() + 1e-12)
    f = rng.uniform(1.5, 2.0)
    return base * (1 + (f - 1) * e), f  # NOT renormalised: envelope-1 part has unit std


TEX_AMPL = {
    "particles": (10, 16),
    "sponge": (10, 16),
    "film_pits": (3, 6),
    "anisotropic": (6, 12),
    "varying_rms": (7, 11),
}


# ----------------------------------------------------------------------------- bumps
def render_bump(kind, cx, cy, D, ar, theta, params, det_angle):
    """Normalised profile (peak 1) of one bump; returns (y0, x0, patch)."""
    R = D / 2.0
    a, b = R * math.sqrt(ar), R / math.sqrt(ar)
    half = int(math.ceil(1.8 * a)) + 4
    y0, y1 = max(0, int(cy) - half), min(H, int(cy) + half + 1)
    x0, x1 = max(0, int(cx) - half), min(W, int(cx) + half + 1)
    gy, gx = np.mgrid[y0:y1, x0:x1].astype(float)
    dy, dx = gy - cy, gx - cx
    u = dx * math.cos(theta) + dy * math.sin(theta)
    v = -dx * math.sin(theta) + dy * math.cos(theta)
    rho = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    ang = np.arctan2(dy, dx)  # image-frame angle of the pixel around the centre
    if kind == "cap":
        k = params["k"]
        c = math.sqrt(1 - k)
        p = np.where(rho < 1, (np.sqrt(np.clip(1 - k * rho ** 2, 0, None)) - c) / (1 - c), 0.0)
    elif kind == "gaussian":
        p = 2.0 ** (-4 * rho ** 2)
    elif kind == "pyramid":
        n, phi0, t = params["n"], params["phi0"], params["t"]
        rin = math.sqrt(math.pi / (n * math.tan(math.pi / n)))  # area of polygon == pi
        us, vs = u / a, v / b
        phis = phi0 + 2 * np.pi * np.arange(n) / n
        proj = np.stack([us * math.cos(f) + vs * math.sin(f) for f in phis]) / rin
        rp = proj.max(0)
        kk = proj.argmax(0)
        p = np.clip((1 - rp) / (1 - t), 0, 1)
        # facet normal direction in image frame (approx: rotate by theta)
        fac = 1 + 0.2 * np.cos(phis[kk] + theta - det_angle)
        p = p * fac
        p = p / max(p.max(), 1e-12)
    elif kind == "edge":
        L, w = params["L"], params["w"]
        e_in = (1 - rho) * R  # px inside the edge (approximate for ellipses)
        interior = np.where(rho < 1, L * (0.8 + 0.2 * np.sqrt(np.clip(1 - rho ** 2, 0, None))), 0.0)
        rim = np.exp(-0.5 * ((e_in - w / 2) / (w / 2)) ** 2)
        rim = rim * (0.8 + 0.2 * np.cos(ang - det_angle)) / 1.0
        rim[e_in < -1.5] = 0
        p = np.maximum(interior, rim)
        p = p / max(p.max(), 1e-12)
        sd, sw = params["shadow_depth"], params["shadow_w"]
        e_out = (rho - 1) * R
        cres = np.exp(-0.5 * ((e_out - sw / 2) / (sw / 2)) ** 2) * (e_out > -1)
        wang = np.clip(np.cos(ang - (det_angle + np.pi)), 0, None) ** 1.5
        p = p - sd * cres * wang * (rho >= 0.95)
    else:
        raise ValueError(kind)
    return y0, x0, p


def draw_bump_params(rng, kind, D):
    if kind == "cap":
        return {"k": float(rng.uniform(0.4, 1.0))}
    if kind == "gaussian":
        return {}
    if kind == "pyramid":
        return {"n": int(rng.choice([4, 5, 6, 8])), "phi0": float(rng.uniform(0, 2 * np.pi)),
                "t": float(rng.uniform(0, 0.4))}
    if kind == "edge":
        return {"L": float(rng.uniform(0.5, 0.8)), "w": float(rng.uniform(1, 3)),
                "shadow_depth": float(rng.uniform(0.2, 0.5)),
                "shadow_w": float(rng.uniform(0.15, 0.35) * D / 2 + 2)}
    raise ValueError(kind)


def place_bumps(rng, D, n_target, max_tries=20000):
    out = []
    R = D / 2
    tries = 0
    while len(out) < n_target and tries < max_tries:
        tries += 1
        ar = float(rng.uniform(1.0, 1.5))
        a = R * math.sqrt(ar)
        m = a + 2
        cx, cy = rng.uniform(m, W - 1 - m), rng.uniform(m, H - 1 - m)
        if all(math.hypot(cx - o[0], cy - o[1]) >= 1.2 * (a + o[2]) for o in out):
            out.append((float(cx), float(cy), a, ar))
    return out


def n_bumps_for(D):
    return int(np.clip(round(0.10 * W * H / (math.pi * (D / 2) ** 2)), 6, 40))


# ----------------------------------------------------------------------------- scene
@dataclass
class Scene:
    image: np.ndarray
    truth: list  # list of dicts
    info: dict = field(default_factory=dict)


def _render(rng, clean, blur, gain, line_sigma, bit16):
    if blur > 0:
        clean = ndimage.gaussian_filter(clean, blur, mode="nearest")
    clean = np.clip(clean, 0, None)
    noisy = gain * rng.poisson(clean / gain).astype(float)
    noisy += rng.normal(0, line_sigma, (H, 1))
    if bit16:
        return np.clip(np.round(noisy * 256.0), 0, 65535).astype(np.uint16)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def make_scene(seed, index, substrate, D=None, C_choices=None, bit16=None):
    """Generate one scene. D=None -> object-free. Returns Scene."""
    rng = np.random.default_rng([int(seed), int(index)])
    if bit16 is None:
        bit16 = bool(rng.random() < 0.25)
    mu = rng.uniform(70, 110)
    s = rng.uniform(*TEX_AMPL[substrate])
    extra = {}
    if substrate == "particles":
        T = tex_particles(rng, extra)
    elif substrate == "sponge":
        T = tex_sponge(rng, extra)
    elif substrate == "film_pits":
        T = tex_film_pits(rng, extra)
    elif substrate == "anisotropic":
        T = tex_anisotropic(rng, extra)
    elif substrate == "varying_rms":
        T, f = tex_varying_rms(rng, extra)
        extra["rms_factor"] = f
    else:
        raise ValueError(substrate)
    blur = float(rng.uniform(0.5, 1.0)) if rng.random() < 0.6 else 0.0
    gain = float(rng.uniform(0.3, 1.0))
    line_sigma = float(rng.uniform(0.5, 2.0))
    drift = float(rng.uniform(0, 0.15))
    dphi = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:H, 0:W].astype(float)
    proj = (xx - W / 2) * math.cos(dphi) + (yy - H / 2) * math.sin(dphi)
    ramp = proj / np.abs(proj).max()
    shading = 1 + drift * ramp
    det_angle = float(rng.uniform(0, 2 * np.pi))

    sub = mu + s * T
    # reference (shading-free, object-free, fresh noise) -> rms in 8-bit grey units
    ref = _render(rng, sub, blur, gain, line_sigma, bit16).astype(float)
    rms = ref.std() / (256.0 if bit16 else 1.0)

    bumps = np.zeros((H, W))
    truth = []
    if D is not None:
        placed = place_bumps(rng, D, n_bumps_for(D))
        for (cx, cy, _a, ar) in placed:
            kind = PROFILES[rng.integers(len(PROFILES))]
            C = float(rng.choice(C_choices))
            theta = float(rng.uniform(0, np.pi))
            params = draw_bump_params(rng, kind, D)
            y0, x0, p = render_bump(kind, cx, cy, D, ar, theta, params, det_angle)
            A = C * rms
            bumps[y0:y0 + p.shape[0], x0:x0 + p.shape[1]] += A * p
            truth.append(dict(x_px=cx, y_px=cy, D=float(D), C=C, profile=kind, aspect=ar,
                              theta=theta, amplitude=A, **{f"p_{k}": v for k, v in params.items()}))
    clean = mu * shading + s * T + bumps
    img = _render(rng, clean, blur, gain, line_sigma, bit16)
    info = dict(substrate=substrate, mu=mu, tex_ampl=s, rms=rms, blur=blur, gain=gain,
                line_sigma=line_sigma, drift=drift, bit16=bit16, det_angle=det_angle,
                D=D, n_bumps=len(truth), **extra)
    return Scene(img, truth, info)
