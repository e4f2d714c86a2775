"Tests of vaelab.data: image checks, the dSprites grid and renderer, Datasets, ImageBatches, the npz loader, CelebA, MNIST, data specs."
import os, math
import numpy as np, pytest, torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset
from vaelab.data import (check_images, DSprites, ImageBatches, small_dsprites, render_sprites, step_seed,
                         celeba64, celeba_partition, mnist, ImageDataset, CelebA64, MNIST64, celeba_attributes,
                         pad_upsample, dataset_from_spec, DATA_SPECS, DATA_KINDS)

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


# ---- map-style Datasets: DSprites ------------------------------------------------------------------
def test_dsprites_is_a_map_style_dataset():
    ds = DSprites()
    assert isinstance(ds, Dataset) and len(ds) == 737280 and ds.channels == 1 and ds.description == 'dsprites'
    for i in (0, 1, 31, 1024, 400_000, 737279):
        x, c = ds[i]
        cl = ds.index_to_classes([i])[0]
        assert x.shape == (1, 64, 64) and x.dtype == torch.float32 and set(x.unique().tolist()) <= {0., 1.}
        assert c.dtype == torch.long and c.shape == (5,) and c.tolist() == cl[1:].tolist()   # colour dropped
        assert torch.equal(x, ds.render(cl[None])[0])
    assert torch.equal(ds[-1][0], ds[737279][0]) and torch.equal(ds[np.int64(5)][1], ds[5][1]) and torch.equal(ds[torch.tensor(7)][0], ds[7][0])
    with pytest.raises(IndexError, match='out of range'): ds[737280]
    with pytest.raises(IndexError, match='out of range'): ds[-737281]
    with pytest.raises(TypeError, match='integer'): ds[1.0]
    with pytest.raises(TypeError, match='integer'): ds['3']


def test_dsprites_getitems_is_the_batched_getitem():
    ds = DSprites(); idx = [5, 70_000, 5, 737279, 123_456]
    batch = ds.__getitems__(idx)
    assert len(batch) == len(idx)
    for (x, c), i in zip(batch, idx):
        x1, c1 = ds[i]
        assert torch.equal(x, x1) and torch.equal(c, c1)


def test_dataloader_over_dsprites_and_a_student_loop():
    torch.manual_seed(0)
    loader = DataLoader(DSprites(), batch_size=64, shuffle=True)
    x, c = next(iter(loader))
    assert x.shape == (64, 1, 64, 64) and c.shape == (64, 5) and c.dtype == torch.long
    check_images(x)
    full = torch.cat([torch.zeros(64, 1, dtype=torch.long), c], 1)
    assert torch.equal(x, DSprites().render(full))                         # labels are the images' classes
    assert (c.max(0).values < torch.tensor(DSprites().factor_sizes[1:])).all()
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4096, 4), torch.nn.Linear(4, 4096), torch.nn.Unflatten(1, (1, 64, 64)))
    opt = torch.optim.SGD(net.parameters(), lr=1e-3)
    w0 = [p.detach().clone() for p in net.parameters()]
    for _, (x, _c) in zip(range(2), loader):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x), x, reduction='sum') / len(x)
        opt.zero_grad(); loss.backward(); opt.step()
    assert math.isfinite(loss.item()) and any(not torch.equal(a, b) for a, b in zip(w0, net.parameters()))


def test_subset_of_dsprites_batches_through_getitems():
    sub = Subset(DSprites(), list(range(0, 737280, 7919)))
    x, c = next(iter(DataLoader(sub, batch_size=8)))
    assert torch.equal(x, DSprites().images(np.arange(0, 8*7919, 7919)))


def test_dsprites_from_npz_items_are_file_images(tmp_path):
    imgs, cls, _ = _fake_npz(tmp_path/'d.npz')
    ds = DSprites.from_npz(tmp_path/'d.npz')
    assert ds.description == f"dsprites-npz:{tmp_path/'d.npz'}" and len(ds) == 48
    x, c = ds[17]
    assert torch.equal(x, torch.tensor(imgs[17], dtype=torch.float32)[None]) and c.tolist() == cls[17, 1:].tolist()
    with pytest.raises(IndexError): ds[48]


# ---- ImageDataset and the three paths of ImageBatches ---------------------------------------------
def test_image_dataset_items_and_errors():
    u8 = torch.randint(0, 256, (7, 3, 5, 5), dtype=torch.uint8)
    for images in (u8, u8.numpy()):
        ds = ImageDataset(images, targets=np.arange(7) * 2, scale=255, description='seven')
        assert len(ds) == 7 and ds.channels == 3 and ds.shape == (3, 5, 5) and ds.description == 'seven'
        x, y = ds[4]
        assert x.dtype == torch.float32 and torch.equal(x, u8[4].float() / 255) and y.item() == 8 and y.dtype == torch.long
        assert torch.equal(ds[-7][0], ds[0][0])
        with pytest.raises(IndexError): ds[7]
    assert ImageDataset(u8)[0][1].shape == (0,) and ImageDataset(u8).description == '7 images of shape (3, 5, 5)'
    xb, yb = next(iter(DataLoader(ImageDataset(u8), batch_size=3)))
    assert xb.shape == (3, 3, 5, 5) and yb.shape == (3, 0)
    b = ImageDataset((u8 > 127).to(torch.uint8), scale=1)[2][0]
    assert set(b.unique().tolist()) <= {0., 1.}
    with pytest.raises(TypeError, match='uint8'): ImageDataset(u8.float())
    with pytest.raises(TypeError, match=r'\(N,C,H,W\)'): ImageDataset(u8[0])
    with pytest.raises(TypeError, match='uint8'): ImageDataset([[1]])
    with pytest.raises(ValueError, match=r'one per image \(7\)'): ImageDataset(u8, targets=[1, 2])
    with pytest.raises(TypeError, match='integer'): ImageDataset(u8)[0.5]


def test_batches_fast_path_for_stored_datasets():
    u8 = torch.randint(0, 256, (30, 3, 4, 4), dtype=torch.uint8)
    ds = ImageDataset(u8.numpy(), description='spec:x')
    fast = ImageBatches(ds, 6, 'cpu', seed=3)
    assert fast.data is not None and fast.data.dtype == torch.uint8 and fast.scale == 255 and fast.source is ds
    assert fast.shape == (3, 4, 4) and len(fast) == 30 and fast.description == 'spec:x'
    ref = ImageBatches(u8, 6, 'cpu', seed=3, scale=255)
    for step in (0, 1, 17): assert torch.equal(fast.batches(step), ref.batches(step))
    moved = fast.to('cpu')
    assert moved.description == 'spec:x' and torch.equal(moved.batches(4), fast.batches(4))
    assert torch.equal(ImageBatches(ds, 6, 'cpu', seed=3, scale=255).batches(1), ref.batches(1))   # same scale: allowed
    with pytest.raises(ValueError, match='own scale'): ImageBatches(ds, 6, 'cpu', scale=1)
    with pytest.raises(ValueError, match='at least one image'): ImageBatches(ImageDataset(u8[:0]), 2, 'cpu')


def test_batches_generic_dataset_path():
    imgs = torch.rand(40, 2, 4, 4)
    class Items(Dataset):            # no __getitems__: fetched through ds[i]
        def __len__(self): return len(imgs)
        def __getitem__(self, i): return imgs[i], i
    calls = []
    class Batched(Items):
        def __getitems__(self, idx): calls.append(list(idx)); return [self[i] for i in idx]
    ref = ImageBatches(imgs, 5, 'cpu', seed=9)
    for src in (Items(), Batched(), TensorDataset(imgs), TensorDataset(imgs, torch.arange(40))):
        g = ImageBatches(src, 5, 'cpu', seed=9)
        assert g.data is None and g.shape == (2, 4, 4) and len(g) == 40 and g.source is src
        assert not hasattr(g, 'description')
        for step in (0, 3): assert torch.equal(g.batches(step), ref.batches(step))
    assert calls and all(len(c) == 5 for c in calls)
    class Bad(Items):
        def __getitem__(self, i): return imgs[i] * 3, i
    with pytest.raises(ValueError, match=r'\[0,1\]'): ImageBatches(Bad(), 5, 'cpu').batches(0)
    with pytest.raises(ValueError, match='only for uint8'): ImageBatches(Items(), 5, 'cpu', scale=255)
    with pytest.raises(ValueError, match='at least one image'): ImageBatches(TensorDataset(imgs[:0]), 5, 'cpu')
    with pytest.raises(TypeError, match='torch Dataset'): ImageBatches({'a': 1}, 5, 'cpu')


def test_batches_keep_their_attributes_and_settable_description():
    d = ImageBatches(DSprites(), 4, 'cpu', seed=1)
    assert (d.source.__class__, d.data, d.scale, d.seed, d.batch_size, d.device.type, d.shape, d.description) == \
           (DSprites, None, None, 1, 4, 'cpu', (1, 64, 64), 'dsprites')
    d.description = 'dsprites (renamed)'
    assert d.to('cpu').description == 'dsprites (renamed)'
    t = ImageBatches(torch.rand(3, 1, 4, 4), 2, 'cpu')
    assert not hasattr(t, 'description')


# ---- CelebA64 ----------------------------------------------------------------------------------------
def _write_attrs(root, names, n_attr=40):
    rows = [' '.join([n] + [('1' if (i * 7 + k) % 5 == 0 else '-1') for k in range(n_attr)]) for i, n in enumerate(names)]
    header = ' '.join(f'Attr_{k}' for k in range(n_attr))
    (root/'celeba'/'list_attr_celeba.txt').write_text(f"{len(names)}\n{header}\n" + '\n'.join(rows) + '\n')


def test_celeba64_dataset_with_and_without_attributes(celeba_root, tmp_path):
    cache = tmp_path/'cache'
    ds = CelebA64(celeba_root, 'valid', cache_dir=cache)
    assert len(ds) == 5 and ds.channels == 3 and ds.attr_names == () and ds.description == f'celeba:{celeba_root}'
    x, y = ds[2]
    assert x.shape == (3, 64, 64) and y.shape == (0,)
    assert torch.equal(x, torch.from_numpy(np.array(celeba64(celeba_root, 'valid', cache_dir=cache)[2])).float() / 255)
    names = [f'{i+1:06d}.jpg' for i in range(len(CODES))]
    _write_attrs(celeba_root, names)
    ds = CelebA64(celeba_root, 'valid', cache_dir=cache)
    valid = [i for i, c in enumerate(CODES) if c == 1]                     # rows 10..14 of the file
    assert ds.attr_names[0] == 'Attr_0' and len(ds.attr_names) == 40 and ds.targets.shape == (5, 40)
    for j, i in enumerate(valid):
        assert ds[j][1].tolist() == [1 if (i * 7 + k) % 5 == 0 else 0 for k in range(40)]
    attrs, _ = celeba_attributes(celeba_root, 'test')
    assert attrs.shape == (3, 40) and set(attrs.unique().tolist()) == {0, 1}
    xb, yb = next(iter(DataLoader(ds, batch_size=5)))
    assert xb.shape == (5, 3, 64, 64) and yb.shape == (5, 40)
    b = ImageBatches(ds, 4, 'cpu')
    assert b.data.dtype == torch.uint8 and b.scale == 255
    _write_attrs(celeba_root, names[:-1])                                  # image 20 (train) without a row
    with pytest.raises(ValueError, match='000020.jpg'): CelebA64(celeba_root, 'train', cache_dir=cache)
    assert len(CelebA64(celeba_root, 'test', cache_dir=cache)) == 3                 # other splits still load


def test_celeba64_dataset_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match='img_align_celeba'): CelebA64(tmp_path)


# ---- MNIST at 64x64 --------------------------------------------------------------------------------
def _fake_mnist(root, n_train=12, n_test=5):
    raw = root/'MNIST'/'raw'; raw.mkdir(parents=True)
    g = np.random.default_rng(1); out = {}
    for prefix, m in (('train', n_train), ('t10k', n_test)):
        imgs = g.integers(0, 256, (m, 28, 28), dtype=np.uint8); labels = (np.arange(m) * 3 % 10).astype(np.uint8)
        (raw/f'{prefix}-images-idx3-ubyte').write_bytes(np.array([2051, m, 28, 28], '>i4').tobytes() + imgs.tobytes())
        (raw/f'{prefix}-labels-idx1-ubyte').write_bytes(np.array([2049, m], '>i4').tobytes() + labels.tobytes())
        out[prefix] = imgs, labels
    return out


def test_pad_upsample_is_exact_and_centred():
    x = torch.randint(1, 256, (3, 1, 28, 28), dtype=torch.uint8)          # no zero pixel inside the digit box
    y = pad_upsample(x)
    assert y.shape == (3, 1, 64, 64) and y.dtype == torch.uint8
    assert (y[..., :4, :] == 0).all() and (y[..., -4:, :] == 0).all() and (y[..., :4] == 0).all() and (y[..., -4:] == 0).all()
    assert (y[..., 4:60, 4:60] > 0).all()                                  # the 28x28 box lands on rows/cols 4..59
    assert torch.equal(y[..., 4::2, 4::2][..., :28, :28], x) and torch.equal(y[..., 5::2, 5::2][..., :28, :28], x)
    assert torch.equal(torch.nn.functional.avg_pool2d(y.float(), 2), torch.nn.functional.pad(x.float(), (2, 2, 2, 2)))
    f = pad_upsample(torch.rand(2, 3, 10, 12), size=32)
    assert f.shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match='even size'): pad_upsample(x, 63)
    with pytest.raises(ValueError, match='>= 2'): pad_upsample(x, 40)


def test_mnist64_dataset(tmp_path):
    fake = _fake_mnist(tmp_path)
    raw, lab = mnist(tmp_path, labels=True)
    assert raw.shape == (12, 1, 28, 28) and lab.dtype == torch.long and lab.tolist() == fake['train'][1].tolist()
    assert torch.equal(mnist(tmp_path), raw)
    for train, key, n in ((True, 'train', 12), (False, 't10k', 5)):
        ds = MNIST64(tmp_path, train=train)
        assert len(ds) == n and ds.channels == 1 and ds.shape == (1, 64, 64) and ds.description == f'mnist:{tmp_path}'
        x, y = ds[3]
        assert y.dtype == torch.long and y.ndim == 0 and y.item() == fake[key][1][3]
        assert torch.equal(x, pad_upsample(torch.from_numpy(fake[key][0][3:4, None]))[0].float() / 255)
        check_images(x[None], channels=1, size=64)
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 1, 64, 64) and yb.shape == (4,)
    b = ImageBatches(ds, 4, 'cpu')
    assert b.data.dtype == torch.uint8 and b.shape == (1, 64, 64)


def test_mnist64_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match='MNIST/raw') as e: MNIST64(tmp_path)
    assert 'download=True' in str(e.value)


# ---- data specs ----------------------------------------------------------------------------------------
def test_dataset_from_spec_every_kind(tmp_path, celeba_root):
    assert set(DATA_KINDS) == {'dsprites', 'dsprites-npz', 'celeba', 'mnist'}
    assert all(k in DATA_SPECS for k in DATA_KINDS) and '\n' not in DATA_SPECS
    d = dataset_from_spec()
    assert type(d) is DSprites and (d.channels, d.description) == (1, 'dsprites')
    assert type(dataset_from_spec('dsprites', 'test')) is DSprites
    _fake_npz(tmp_path/'d.npz'); _fake_mnist(tmp_path)
    cases = [(f"dsprites-npz:{tmp_path/'d.npz'}", 'train', 48, 1), (f'mnist:{tmp_path}', 'train', 12, 1),
             (f'mnist:{tmp_path}', 'test', 5, 1), (f'celeba:{celeba_root}', 'train', 12, 3),
             (f'celeba:{celeba_root}', 'valid', 5, 3), (f'celeba:{celeba_root}', 'test', 3, 3)]
    for spec, split, n, ch in cases:
        d = dataset_from_spec(spec, split)
        assert isinstance(d, Dataset) and len(d) == n and d.channels == ch and d.description == spec, spec
        assert d[0][0].shape == (ch, 64, 64)
        b = ImageBatches(d, 4, 'cpu', seed=0)
        assert b.description == spec and b.data is not None
        check_images(b.batches(0), channels=ch, size=64)


@pytest.mark.parametrize('spec', ['imagenet', 'celeba', 'celeba:', 'mnist', 'mnist:  ', 'dsprites:x', 'dsprites-npz',
                                  'DSPRITES', '', 'celeba64:/data'])
def test_dataset_from_spec_unknown(spec):
    with pytest.raises(ValueError) as e: dataset_from_spec(spec)
    msg = str(e.value)
    assert '\n' not in msg and repr(spec) in msg and all(k in msg for k in DATA_KINDS)


def test_dataset_from_spec_bad_split_and_missing_files(tmp_path):
    with pytest.raises(ValueError, match="'train', 'valid', 'test'"): dataset_from_spec('dsprites', 'validation')
    _fake_mnist(tmp_path)
    with pytest.raises(ValueError, match="no 'valid' split"): dataset_from_spec(f'mnist:{tmp_path}', 'valid')
    empty = tmp_path/'empty'; empty.mkdir()
    with pytest.raises(FileNotFoundError, match='MNIST/raw'): dataset_from_spec(f'mnist:{empty}')
    with pytest.raises(FileNotFoundError, match='list_eval_partition.txt') as e: dataset_from_spec(f'celeba:{empty}', 'test')
    assert 'network' in str(e.value)
    with pytest.raises(FileNotFoundError, match='dsprites-dataset'): dataset_from_spec(f'dsprites-npz:{empty}/no.npz')
