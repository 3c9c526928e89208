import { ISignal } from '@lumino/signaling';

import {
  GPUKernelsAPI,
  IDockerHost,
  IGPUInventory,
  IKernelRow
} from '../src/api';
import { defaultHost, GPUKernelsModel } from '../src/model';

/** A REST layer answering from plain data (no server). */
class FakeAPI {
  hostList: IDockerHost[] = [
    { name: 'local', reachable: true, gpu_count: 0 },
    { name: 'gpubox', reachable: true, gpu_count: 2, gpu_driver: true },
    { name: 'offline', reachable: false }
  ];
  kernelList: IKernelRow[] = [];
  calls: string[] = [];
  failKernels: Error | null = null;

  async hosts() {
    this.calls.push('hosts');
    return this.hostList;
  }
  async gpus(host: string): Promise<IGPUInventory> {
    this.calls.push(`gpus ${host}`);
    return {
      host,
      driver: true,
      source: 'nvidia-smi',
      gpus: [],
      error: null,
      status: 'ok'
    };
  }
  async images(host: string, detect = true) {
    this.calls.push(`images ${host} ${detect}`);
    return [
      {
        id: 'sha256:1',
        tags: ['python:3.12'],
        digests: [],
        size: 1,
        created: null,
        has_ipykernel: detect ? true : null,
        ipykernel_version: null,
        allowed: true
      }
    ];
  }
  async environments() {
    this.calls.push('environments');
    return [];
  }
  async kernels() {
    this.calls.push('kernels');
    if (this.failKernels) {
      throw this.failKernels;
    }
    return this.kernelList;
  }
  async startPull(host: string, image: string) {
    return {
      id: 'p1',
      host,
      image,
      status: 'failed',
      message: '',
      log: [],
      error: 'nope'
    };
  }
}

const KINDS = [
  'hostsChanged',
  'hostChanged',
  'gpusChanged',
  'imagesChanged',
  'environmentsChanged',
  'kernelsChanged',
  'pullsChanged'
] as const;

/** Every signal emission of the model, as "signalName:args". */
function record(model: GPUKernelsModel): string[] {
  const seen: string[] = [];
  for (const kind of KINDS) {
    (model[kind] as ISignal<GPUKernelsModel, unknown>).connect((_, args) =>
      seen.push(args === undefined ? kind : `${kind}:${args}`)
    );
  }
  return seen;
}

function setup() {
  const api = new FakeAPI();
  const model = new GPUKernelsModel({ api: api as unknown as GPUKernelsAPI });
  return { api, model, seen: record(model) };
}

const kernel: IKernelRow = {
  kernel_id: 'k1',
  container: 'jupyter-kernel-k1',
  host: 'gpubox',
  image: 'python:3.12',
  environment: 'e',
  gpus: '0',
  notebook: 'a.ipynb',
  session_id: null,
  started: '',
  state: 'running',
  server: 's',
  this_server: true
};

describe('GPUKernelsModel signals', () => {
  it('hosts: the host list changes, and the default host is selected', async () => {
    const { model, seen } = setup();
    await model.refreshHosts();
    // loading (nothing shown yet), loaded, then the selection
    expect(seen).toEqual([
      'hostsChanged',
      'hostsChanged',
      'hostChanged:gpubox'
    ]);
    expect(model.host).toBe('gpubox');
    seen.length = 0;
    await model.refreshHosts();
    expect(seen).toEqual([]);
  });

  it('kernels: only kernelsChanged, and nothing when the data is the same', async () => {
    const { api, model, seen } = setup();
    api.kernelList = [kernel];
    await model.refreshKernels();
    // loading (no value yet), then loaded
    expect(seen).toEqual(['kernelsChanged', 'kernelsChanged']);
    seen.length = 0;
    await model.refreshKernels();
    expect(seen).toEqual([]);
    api.kernelList = [];
    await model.refreshKernels();
    expect(seen).toEqual(['kernelsChanged']);
    expect(model.kernels.value).toEqual([]);
  });

  it('kernels: a failure keeps the list and shows the error', async () => {
    const { api, model, seen } = setup();
    api.kernelList = [kernel];
    await model.refreshKernels();
    seen.length = 0;
    api.failKernels = new Error('daemon gone');
    await model.refreshKernels();
    expect(seen).toEqual(['kernelsChanged']);
    expect(model.kernels.value).toEqual([kernel]);
    expect(model.kernels.error).toBe('daemon gone');
  });

  it('GPUs and images: their own signal, with the host', async () => {
    const { model, seen } = setup();
    await model.refreshGPUs('gpubox');
    expect(new Set(seen)).toEqual(new Set(['gpusChanged:gpubox']));
    seen.length = 0;
    await model.refreshImages('gpubox');
    expect(new Set(seen)).toEqual(new Set(['imagesChanged:gpubox']));
    expect(model.images('gpubox').value?.[0].has_ipykernel).toBe(true);
  });

  it('images: the quick list first, then the ipykernel marks', async () => {
    const { api, model } = setup();
    await model.refreshImages('gpubox');
    expect(api.calls).toEqual(['images gpubox false', 'images gpubox true']);
  });

  it('an unreachable host is not asked for GPUs', async () => {
    const { api, model, seen } = setup();
    await model.refreshHosts();
    api.calls.length = 0;
    seen.length = 0;
    await model.refreshGPUs('offline');
    expect(api.calls).toEqual([]);
    expect(seen).toEqual(['gpusChanged:offline']);
    expect(model.gpus('offline').error).toBe(
      'Host offline is unreachable (see above).'
    );
  });

  it('environments: only environmentsChanged', async () => {
    const { model, seen } = setup();
    await model.refreshEnvironments();
    expect(new Set(seen)).toEqual(new Set(['environmentsChanged']));
  });

  it('selecting a host: hostChanged, then that host’s GPUs and images', async () => {
    const { model, seen } = setup();
    await model.selectHost('local');
    expect(seen[0]).toBe('hostChanged:local');
    expect(seen).toContain('gpusChanged:local');
    expect(seen).toContain('imagesChanged:local');
    expect(seen).not.toContain('kernelsChanged');
    seen.length = 0;
    await model.selectHost('local');
    expect(seen).toEqual([]);
  });

  it('pulls: pullsChanged on start and dismiss', async () => {
    const { model, seen } = setup();
    await model.pullImage('gpubox', 'x:1');
    expect(seen).toEqual(['pullsChanged']);
    expect(model.pulls.map(p => p.id)).toEqual(['p1']);
    model.dismissPull('p1');
    expect(seen).toEqual(['pullsChanged', 'pullsChanged']);
    expect(model.pulls).toEqual([]);
  });

  it('a disposed model emits nothing', async () => {
    const { model, seen } = setup();
    model.dispose();
    await model.refreshKernels();
    expect(seen).toEqual([]);
  });
});

describe('defaultHost', () => {
  it('prefers a reachable host with GPUs, then a reachable one', () => {
    expect(
      defaultHost([
        { name: 'a', reachable: false, gpu_count: 4 },
        { name: 'b', reachable: true, gpu_count: 0 },
        { name: 'c', reachable: true, gpu_count: 2 }
      ])
    ).toBe('c');
    expect(
      defaultHost([
        { name: 'a', reachable: false },
        { name: 'b', reachable: true }
      ])
    ).toBe('b');
    expect(defaultHost([{ name: 'a', reachable: false }])).toBe('a');
    expect(defaultHost([])).toBe('');
  });
});
