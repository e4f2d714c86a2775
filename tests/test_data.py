"Tests of vaelab.data: image checks, the dSprites grid and renderer, ImageBatches, the npz loader, CelebA, MNIST."
import os, math
import numpy as np, pytest, torch
from PIL import Image
from vaelab.data import (check_images, DSprites, ImageBatches, small_dsprites, render_sprites, step_seed,
                         celeba64, celeba_partition, mnist)

# ---- check_images: one case per rejection --------------------------------------------------------
GOOD = torch.rand(3, 1, 8, 8)

def test_check_images_accepts_and_returns_same_object():
    assert check_images(GOOD, channels=1, size=8) is GOOD
    assert check_images(GOOD, size=(8, 8)) is GOOD

@pytest.mark.parametrize('x,kw,exc,msg', [
    (GOOD.numpy(), {}, TypeError, 'torch.Tensor'),
    ([[0.5]], {}, TypeError, 'torch.Tensor'),
    ((GOOD*255).to(torch.uint8), {}, TypeError, 'uint8'),
    (torch.zeros(1, 1, 2, 2, dtype=torch.int64), {}, TypeError, 'floating-point'),
    (GOOD[0], {}, ValueError, 'expected 4 dimensions'),
    (GOOD[None], {}, ValueError, 'expected 4 dimensions'),
    (GOOD[:0], {}, ValueError, 'non-empty'),
    (GOOD, {'channels': 3}, ValueError, 'expected 3 channels'),
    (GOOD, {'size': 64}, ValueError, '(64, 64)'),
    (GOOD, {'size': (8, 9)}, ValueError, '(8, 9)'),
    (GOOD + 1.5, {}, ValueError, 'max'),
    (GOOD - 1.5, {}, ValueError, 'min'),
    (torch.full((1, 1, 2, 2), float('nan')), {}, ValueError, 'NaN'),
    (torch.full((1, 1, 2, 2), float('inf')), {}, ValueError, '[0,1]'),
])
def test_check_images_rejects(x, kw, exc, msg):
    with pytest.raises(exc, match=None) as e: check_images(x, name='batch', **kw)
    assert msg in str(e.value) and 'batch' in str(e.value)

def test_check_images_never_clips():
    x = torch.full((1, 1, 2, 2), 1.0 + 1e-6)
    with pytest.raises(ValueError): check_images(x)
    assert x.max().item() > 1

# ---- dSprites grid ----------------------------------------------------------------------------
def test_grid_api():
    ds = DSprites()
    assert len(ds) == 737280 and ds.factor_sizes == (1, 3, 6, 40, 32, 32)
    idx = np.array([0, 1, 32, 1024, 737279])
    cl = ds.index_to_classes(idx)
    assert cl.dtype == np.int64
    assert cl[1].tolist() == [0, 0, 0, 0, 0, 1] and cl[2].tolist() == [0, 0, 0, 0, 1, 0] and cl[3].tolist() == [0, 0, 0, 1, 0, 0]
    np.testing.assert_array_equal(ds.classes_to_index(cl), idx)
    np.testing.assert_array_equal(ds.classes_to_index(cl), np.ravel_multi_index(cl.T, ds.factor_sizes))
    v = ds.classes_to_values([[0, 2, 5, 39, 31, 0]])[0]
    np.testing.assert_allclose(v, [1, 3, 1, 2*np.pi, 1, 0])
    np.testing.assert_allclose(ds.classes_to_values([[0, 1, 1, 1, 1, 1]])[0], [1, 2, 0.6, 2*np.pi/39, 1/31, 1/31])
    s = ds.sample_factors(5000, np.random.default_rng(0))
    assert s.dtype == np.int64 and s.shape == (5000, 6) and (s.max(0) + 1 == ds.factor_sizes).all() and (s.min(0) == 0).all()
    np.testing.assert_array_equal(s, ds.sample_factors(5000, np.random.default_rng(0)))
    with pytest.raises(ValueError, match='posY'): ds.classes_to_index([[0, 0, 0, 0, 0, 32]])
    with pytest.raises(ValueError, match=r'\(n,6\)'): ds.render(np.zeros((2, 5), np.int64))

# ---- renderer -----------------------------------------------------------------------------------
def _one(shape, scale=1., theta=0., px=.5, py=.5):
    t = lambda v: torch.tensor([float(v)], dtype=torch.float64)
    return render_sprites(t(shape), t(scale), t(theta), t(px), t(py))[0, 0]

def test_render_geometry():
    sq = _one(1)                                   # square side 19.2 px centred at (32, 32): centres 22.5..41.5
    rows, cols = sq.nonzero(as_tuple=True)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (22, 41, 22, 41) and sq.sum() == 400
    sq = _one(1, 1., 0., 0., 0.)                   # centre (16, 16): pixel centres 6.5..25.5 -> 6..25
    assert sq.nonzero()[:, 0].min() == 6 and sq.nonzero()[:, 0].max() == 25
    e = _one(2)                                    # ellipse: 2*12.8 wide, 2*7.2 tall at theta=0
    r, c = e.nonzero(as_tuple=True)
    assert abs((c.max() - c.min() + 1).item() - 25.6) <= 1.5 and abs((r.max() - r.min() + 1).item() - 14.4) <= 1.5
    assert (_one(1, 1., 0., 0., 0.).nonzero()[:, 1].float().mean() + .5 - 16).abs() < 1   # posX=0 -> centre at 16 px
    right = _one(2, 1., 0., 1., .5).nonzero()[:, 1].float().mean()
    left = _one(2, 1., 0., 0., .5).nonzero()[:, 1].float().mean()
    assert right - left == pytest.approx(32, abs=1)                                     # posX moves right
    down = _one(2, 1., 0., .5, 1.).nonzero()[:, 0].float().mean()
    up = _one(2, 1., 0., .5, 0.).nonzero()[:, 0].float().mean()
    assert down - up == pytest.approx(32, abs=1)                                        # posY moves down
    tilt = _one(2, 1., .4)                                                              # counter-clockwise
    assert tilt[:, 40:].nonzero()[:, 0].float().mean() < tilt[:, :24].nonzero()[:, 0].float().mean()
    h = _one(3)
    assert h[:32].sum() > h[32:].sum()                                                  # heart upright
    assert torch.equal(_one(1, .7, .3), _one(1, .7, .3 + math.pi/2))
    assert torch.equal(_one(2, .7, .3), _one(2, .7, .3 + math.pi))
    assert not torch.equal(_one(3, .7, .3), _one(3, .7, .3 + math.pi))

def test_render_classes_and_symmetry_of_orientation_grid():
    ds = DSprites()
    x = ds.render(ds.sample_factors(300, np.random.default_rng(1)))
    assert x.shape == (300, 1, 64, 64) and x.dtype == torch.float32
    assert set(x.unique().tolist()) == {0., 1.}
    assert x[..., 0, :].sum() == 0 and x[..., -1, :].sum() == 0 and x[..., 0].sum() == 0 and x[..., -1].sum() == 0
    for shape in range(3):
        assert torch.equal(ds.render([[0, shape, 2, 0, 4, 9]]), ds.render([[0, shape, 2, 39, 4, 9]]))
    counts = [ds.render([[0, 0, k, 3, 16, 16]]).sum().item() for k in range(6)]
    np.testing.assert_allclose(counts, 19.2**2*np.linspace(0.5, 1, 6)**2, rtol=0.1)   # area ~ scale^2

def test_render_all_block_matches_render():
    ds = DSprites()
    from vaelab.data import _CANVAS
    Q = torch.zeros(_CANVAS, _CANVAS, dtype=torch.uint8)
    for shape, k_scale, k_or in [(1, 5, 7), (3, 0, 39)]:
        blk = ds._lattice_block(shape, float(ds.factor_values[2][k_scale]), float(ds.factor_values[3][k_or]), Q)
        blk = blk.flip(0, 1).reshape(1024, 64, 64)
        start = ds.classes_to_index([[0, shape - 1, k_scale, k_or, 0, 0]])[0]
        ref = ds.images(np.arange(start, start + 1024))[:, 0].to(torch.uint8)
        assert torch.equal(blk, ref)

def test_sample_observations_and_small_dsprites():
    ds = DSprites(); c = ds.sample_factors(8, np.random.default_rng(0))
    assert torch.equal(ds.sample_observations_from_factors(c, np.random.default_rng(5)), ds.render(c))
    x, c = small_dsprites(32, seed=4, return_classes=True)
    assert x.shape == (32, 1, 64, 64) and torch.equal(x, small_dsprites(32, seed=4)) and torch.equal(x, ds.render(c))

# ---- ImageBatches -------------------------------------------------------------------------------
def test_batches_reproducible_and_distinct():
    imgs = torch.rand(50, 3, 4, 4)
    a, b = ImageBatches(imgs, 8, 'cpu', seed=0), ImageBatches(imgs, 8, 'cpu', seed=0)
    assert a.shape == (3, 4, 4) and len(a) == 50
    assert torch.equal(a.batches(3), b.batches(3)) and torch.equal(a.batches(3), a.batches(3))
    _ = a.batches(99)                                     # order of calls does not matter
    assert torch.equal(a.batches(3), b.batches(3))
    assert not torch.equal(a.batches(3), a.batches(4))
    assert not torch.equal(a.batches(3), ImageBatches(imgs, 8, 'cpu', seed=1).batches(3))
    assert step_seed(0, 3) != step_seed(3, 0)
    it = iter(a)
    assert torch.equal(next(it), a.batches(0)) and torch.equal(next(it), a.batches(1))
    assert torch.equal(a.to('cpu').batches(5), a.batches(5))

def test_batches_dsprites_and_uint8():
    d = ImageBatches(DSprites(), 16, 'cpu', seed=2)
    x = d.batches(0)
    assert x.shape == (16, 1, 64, 64) and torch.equal(x, d.batches(0)) and not torch.equal(x, d.batches(1))
    check_images(x)
    u8 = torch.randint(0, 256, (20, 3, 4, 4), dtype=torch.uint8)
    assert torch.equal(ImageBatches(u8, 5, 'cpu', scale=255).batches(1), ImageBatches(u8.float()/255, 5, 'cpu').batches(1))
    with pytest.raises(TypeError, match='scale'): ImageBatches(u8, 5, 'cpu')
    with pytest.raises(ValueError, match='<= scale'): ImageBatches(u8, 5, 'cpu', scale=1)

def test_batches_errors():
    with pytest.raises(ValueError, match='at least one image'): ImageBatches(torch.rand(0, 1, 4, 4), 2, 'cpu')
    with pytest.raises(ValueError, match='at least one image'): ImageBatches(np.zeros((0, 1, 4, 4), np.uint8), 2, 'cpu', scale=255)
    with pytest.raises(ValueError, match='positive integer'): ImageBatches(torch.rand(3, 1, 4, 4), 0, 'cpu')
    with pytest.raises(ValueError, match=r'\[0,1\]'): ImageBatches(torch.rand(3, 1, 4, 4) + 1, 2, 'cpu')
    with pytest.raises(ValueError, match='N,C,H,W'): ImageBatches(torch.rand(3, 4, 4), 2, 'cpu')
    with pytest.raises(TypeError, match='DSprites'): ImageBatches([1, 2], 2, 'cpu')

# ---- official npz loader ------------------------------------------------------------------------
def _fake_npz(path, sizes=(1, 3, 2, 2, 2, 2), order=slice(None)):
    cls = np.stack(np.unravel_index(np.arange(int(np.prod(sizes))), sizes), -1)
    tables = [np.ones(1), np.array([1., 2, 3]), np.array([.5, 1]), np.array([0, np.pi/2]), np.array([0., 1]), np.array([0., 1])]
    vals = np.stack([t[cls[:, k]] for k, t in enumerate(tables)], -1)
    imgs = (np.random.default_rng(0).random((len(cls), 64, 64)) < .1).astype(np.uint8)
    np.savez_compressed(path, imgs=imgs[order], latents_classes=cls[order], latents_values=vals[order],
                        metadata=np.array({'latents_sizes': np.array(sizes)}, dtype=object))
    return imgs, cls, vals

def test_from_npz(tmp_path):
    imgs, cls, vals = _fake_npz(tmp_path/'d.npz')
    ds = DSprites.from_npz(tmp_path/'d.npz')
    assert len(ds) == 48 and ds.factor_sizes == (1, 3, 2, 2, 2, 2) and ds.factor_names[1] == 'shape'
    np.testing.assert_array_equal(ds.classes_to_index(cls), np.arange(48))
    np.testing.assert_allclose(ds.classes_to_values(cls), vals)
    assert torch.equal(ds.images([3, 40]), torch.tensor(imgs[[3, 40]], dtype=torch.float32)[:, None])
    assert torch.equal(ds.render(cls[[7]]), torch.tensor(imgs[[7]], dtype=torch.float32)[:, None])
    assert ds.render_all(progress=False).shape == (48, 1, 64, 64)
    b = ImageBatches(ds, 4, 'cpu')
    assert torch.equal(b.batches(2), ImageBatches(torch.tensor(imgs[:, None], dtype=torch.float32), 4, 'cpu').batches(2))

def test_from_npz_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='dsprites-dataset'): DSprites.from_npz(tmp_path/'nope.npz')
    _fake_npz(tmp_path/'shuffled.npz', order=slice(None, None, -1))
    with pytest.raises(ValueError, match='order'): DSprites.from_npz(tmp_path/'shuffled.npz')
    np.savez(tmp_path/'keys.npz', imgs=np.zeros((1, 64, 64), np.uint8))
    with pytest.raises(ValueError, match='latents_classes'): DSprites.from_npz(tmp_path/'keys.npz')

# ---- CelebA (fake tree in torchvision's layout) -------------------------------------------------
CODES = [0]*10 + [1]*5 + [2]*3 + [0]*2   # 12 train, 5 valid, 3 test, not contiguous

@pytest.fixture
def celeba_root(tmp_path):
    d = tmp_path/'celeba'; (d/'img_align_celeba').mkdir(parents=True)
    rng = np.random.default_rng(0)
    lines = []
    for i, c in enumerate(CODES):
        a = np.zeros((218, 178, 3), np.uint8)
        a[35:183, 15:163] = rng.integers(60, 200, 3)        # the 148x148 centre: one colour per image
        name = f'{i+1:06d}.jpg'
        Image.fromarray(a).save(d/'img_align_celeba'/name, quality=95)
        lines.append(f'{name} {c}')
    (d/'list_eval_partition.txt').write_text('\n'.join(lines) + '\n')
    return tmp_path

def test_celeba_splits_crop_and_cache(celeba_root, tmp_path):
    sizes = {k: len(v) for k, v in celeba_partition(celeba_root).items()}
    assert sizes == {'train': 12, 'valid': 5, 'test': 3}
    cache = tmp_path/'cache'
    for split, n in sizes.items():
        x = celeba64(celeba_root, split, cache_dir=cache)
        assert isinstance(x, np.memmap) and x.shape == (n, 3, 64, 64) and x.dtype == np.uint8
    train = celeba64(celeba_root, 'train', cache_dir=cache)
    # the crop keeps only the uniform centre square: each image is one flat colour
    assert np.ptp(train[:, :, 2:-2, 2:-2].reshape(12, 3, -1).astype(int), axis=-1).max() <= 8
    assert train.reshape(12, 3, -1).min() > 40   # no black border came in
    # second call: the cache is reused, nothing decoded (files gone, cache untouched)
    f = cache/'celeba64_train_crop148.npy'; mtime = os.stat(f).st_mtime_ns
    (celeba_root/'celeba'/'img_align_celeba').rename(celeba_root/'moved')
    again = celeba64(celeba_root, 'train', cache_dir=cache)
    assert os.stat(f).st_mtime_ns == mtime and np.array_equal(np.asarray(again), np.asarray(train))
    assert not list(cache.glob('*.partial.npy'))
    b = ImageBatches(again, 4, 'cpu', scale=255)
    assert b.shape == (3, 64, 64); check_images(b.batches(0), channels=3, size=64)

def test_celeba_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match='img_align_celeba') as e: celeba64(tmp_path, 'train')
    assert 'list_eval_partition.txt' in str(e.value) and 'network' in str(e.value)
    with pytest.raises(ValueError, match='split'): celeba64(tmp_path, 'validation')

def test_mnist_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match='MNIST/raw'): mnist(tmp_path)
