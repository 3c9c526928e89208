import {
  describeGpuRequest,
  describeHeldGpus,
  formatBytes,
  formatMiB,
  hostFix,
  hostState,
  percent,
  shortImage,
  since
} from '../src/format';

describe('format', () => {
  it('formats byte sizes in decimal units', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1234567890)).toBe('1.2 GB');
    expect(formatBytes(45_000_000)).toBe('45 MB');
    expect(formatBytes(null)).toBe('');
  });

  it('formats MiB as MiB or GiB', () => {
    expect(formatMiB(512)).toBe('512 MiB');
    expect(formatMiB(81920)).toBe('80 GiB');
    expect(formatMiB(1536)).toBe('1.5 GiB');
    expect(formatMiB(null)).toBe('?');
  });

  it('shortens image names and ids', () => {
    expect(shortImage('registry:5000/team/ml:1.2')).toBe('team/ml:1.2');
    expect(shortImage('localhost/x:1')).toBe('x:1');
    expect(shortImage('team/ml:1.2')).toBe('team/ml:1.2');
    expect(shortImage('sha256:' + 'a'.repeat(64))).toBe('a'.repeat(12));
  });

  it('describes GPU requests and held devices', () => {
    expect(describeGpuRequest('none')).toBe('no GPU');
    expect(describeGpuRequest('')).toBe('no GPU');
    expect(describeGpuRequest('all')).toBe('all GPUs');
    expect(describeGpuRequest('1')).toBe('1 GPU');
    expect(describeGpuRequest('3')).toBe('3 GPUs');
    expect(describeGpuRequest('device=2')).toBe('GPU 2');
    expect(describeGpuRequest('device=0,2')).toBe('GPUs 0, 2');
    expect(describeHeldGpus('')).toBe('no GPU');
    expect(describeHeldGpus('1')).toBe('GPU 1');
    expect(describeHeldGpus('0,3')).toBe('GPUs 0, 3');
  });

  it('says how long ago', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    expect(since('2024-05-01T11:59:30Z', undefined, now)).toBe('30 s ago');
    expect(since('2024-05-01T11:55:00Z', undefined, now)).toBe('5 min ago');
    expect(since('2024-05-01T09:00:00Z', undefined, now)).toBe('3 h ago');
    expect(since('2024-04-28T12:00:00Z', undefined, now)).toBe('3 d ago');
    expect(since('not a date')).toBe('not a date');
    expect(since(null)).toBe('');
  });

  it('clamps percentages', () => {
    expect(percent(50, 200)).toBe(25);
    expect(percent(300, 200)).toBe(100);
    expect(percent(null, 200)).toBeNull();
    expect(percent(5, 0)).toBeNull();
  });

  it('tells what is wrong with a host and how to fix it', () => {
    const ok = { name: 'a', reachable: true, gpu_driver: true };
    expect(hostState(ok)).toBe('ok');
    expect(hostFix(ok)).toBe('');
    const noDriver = { name: 'b', reachable: true, gpu_driver: false };
    expect(hostState(noDriver)).toBe('warn');
    expect(hostFix(noDriver)).toContain('NVIDIA Container Toolkit');
    const denied = {
      name: 'c',
      reachable: false,
      error: 'Permission denied on /var/run/docker.sock'
    };
    expect(hostState(denied)).toBe('error');
    expect(hostFix(denied)).toContain('"docker" group');
    expect(
      hostFix({ name: 'd', reachable: false, error: 'ssh: auth' })
    ).toContain('ssh <host> docker version');
  });

  it('translates through the bundle it is given', () => {
    const upper = {
      __: (msg: string, ...args: unknown[]) =>
        msg.toUpperCase().replace(/%(\d)/g, (_, i) => String(args[i - 1])),
      _n: (one: string, many: string, n: number) =>
        (n === 1 ? one : many).toUpperCase().replace('%1', String(n))
    } as any;
    expect(describeGpuRequest('2', upper)).toBe('2 GPUS');
    expect(describeHeldGpus('', upper)).toBe('NO GPU');
  });
});
