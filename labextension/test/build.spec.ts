import { nullTranslator } from '@jupyterlab/translation';

import { IEnvironment } from '../src/api';
import {
  buildTarget,
  defaultTag,
  diffText,
  isDockerfileName,
  missingEnvironment,
  parseBuildArgs,
  reviewItems,
  stepText,
  suggestedTag,
  suggestionText
} from '../src/build';
import { IBuild, ICommit } from '../src/buildApi';

const trans = nullTranslator.load('jupyter_gpu_kernels');

function env(name: string): IEnvironment {
  return {
    name,
    image: 'img:1',
    host: 'local',
    gpus: 'none',
    kernel_name: `gpu-${name}`,
    read_only: false
  };
}

describe('build helpers', () => {
  it('recognises Dockerfiles and splits their path', () => {
    expect(isDockerfileName('Dockerfile')).toBe(true);
    expect(isDockerfileName('a/b/train.Dockerfile')).toBe(true);
    expect(isDockerfileName('Dockerfile.txt')).toBe(false);
    expect(isDockerfileName('notes.md')).toBe(false);
    expect(buildTarget('proj/sub/Dockerfile')).toEqual({
      context: 'proj/sub',
      dockerfile: 'Dockerfile'
    });
    expect(buildTarget('Dockerfile')).toEqual({
      context: '',
      dockerfile: 'Dockerfile'
    });
    expect(defaultTag('My Proj/Dockerfile')).toBe('my-proj:v1');
    expect(defaultTag('x/train.Dockerfile')).toBe('train:v1');
    expect(defaultTag('Dockerfile')).toBe('image:v1');
  });

  it('reads the suggested next tag from the server and says so', () => {
    const message =
      "image 'proj:v1' already exists on host 'local'; tag this version 'proj:v2' instead, or pass --overwrite to replace it";
    expect(suggestedTag(message)).toBe('proj:v2');
    expect(suggestedTag('no Dockerfile here')).toBeNull();
    const text = suggestionText('proj:v1', 'proj:v2', trans);
    expect(text).toContain('“proj:v1” exists already');
    expect(text).toContain('next version is “proj:v2”');
    expect(text).not.toContain('replace'); // a commit cannot replace the tag
    expect(suggestionText('proj:v1', 'proj:v2', trans, true)).toContain(
      'keep “proj:v1” to replace it'
    );
  });

  it('parses build args and names a bad line', () => {
    expect(parseBuildArgs('A=1\n\n B = x=y \n', trans)).toEqual({
      A: '1',
      B: ' x=y'
    });
    expect(() => parseBuildArgs('novalue', trans)).toThrow('novalue');
    expect(() => parseBuildArgs('1A=2', trans)).toThrow('1A=2');
  });

  it('describes step progress and the diff', () => {
    const b: IBuild = {
      id: 'x',
      host: 'local',
      tag: 'p:v1',
      path: '/r',
      status: 'running',
      step: 0,
      steps: 0,
      log: [],
      image_id: null,
      error: null
    };
    expect(stepText(b, trans)).toBe('Starting…');
    expect(stepText({ ...b, step: 2, steps: 3 }, trans)).toBe('Step 2/3');
    expect(stepText({ ...b, status: 'done' }, trans)).toBe('Done: p:v1');
    expect(stepText({ ...b, status: 'failed' }, trans)).toBe('Failed');
    const c = { diff: { added: 2, changed: 1 } } as unknown as ICommit;
    expect(diffText(c, trans)).toBe('2 added, 1 changed, 0 deleted');
  });
});

describe('missing environment', () => {
  const meta = {
    jupyter_gpu_kernels: { environment: 'torch', image: 'img:1', gpus: '1' }
  };
  it('is the recorded one when it does not exist here', () => {
    expect(missingEnvironment(meta, [env('other')])?.environment).toBe('torch');
  });
  it('is null when it exists, or nothing usable is recorded', () => {
    expect(missingEnvironment(meta, [env('torch')])).toBeNull();
    expect(missingEnvironment({}, [])).toBeNull();
    expect(missingEnvironment(null, [])).toBeNull();
    expect(
      missingEnvironment({ jupyter_gpu_kernels: { environment: 'x' } }, [])
    ).toBeNull();
    expect(
      missingEnvironment({ jupyter_gpu_kernels: { image: 'img' } }, [])
    ).toBeNull();
  });
});

describe('review', () => {
  it('lists image, host, GPUs, then mounts and other fields once', () => {
    const { title, items } = reviewItems(
      {
        name: 'torch',
        environment: {
          image: 'repo@sha256:abc',
          host: 'gpu-box',
          gpus: '1',
          memory: '4g'
        },
        review: [
          "environment 'torch' from notebook metadata: image repo@sha256:abc",
          'mount /data:/data',
          'host = gpu-box',
          'gpus = 1',
          'memory = 4g'
        ],
        exists: false,
        created: false
      },
      trans
    );
    expect(title).toBe('Recreate environment torch?');
    expect(items).toEqual([
      'Image: repo@sha256:abc',
      'Host: gpu-box',
      'GPUs: 1',
      'mount /data:/data',
      'memory = 4g'
    ]);
  });
});
