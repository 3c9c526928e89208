import * as React from 'react';
import { createRoot } from 'react-dom/client';

import { GPUKernelsAPI } from '../src/api';
import { EnvironmentForm } from '../src/components/EnvironmentForm';
import { IFormState } from '../src/formState';
import { GPUKernelsModel } from '../src/model';
import { loadTrans } from '../src/translation';

const api = {
  hosts: async () => [{ name: 'fakegpu', reachable: true, gpu_count: 4 }],
  gpus: async (host: string) => ({
    host,
    driver: true,
    source: 'x',
    gpus: [],
    error: null,
    status: ''
  }),
  images: async () => [],
  environments: async () => [],
  kernels: async () => []
};

const act: (work: () => Promise<void>) => Promise<void> = (React as any).act;
(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

/** Type into a React-controlled input the way a user does. */
function type(input: HTMLInputElement, value: string) {
  const setter = Object.getOwnPropertyDescriptor(
    HTMLInputElement.prototype,
    'value'
  )!.set!;
  setter.call(input, value);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

describe('EnvironmentForm', () => {
  it('keeps what is typed and reports it', async () => {
    const model = new GPUKernelsModel({ api: api as unknown as GPUKernelsAPI });
    await model.refreshHosts();
    const node = document.createElement('div');
    document.body.appendChild(node);
    const root = createRoot(node);
    let state: IFormState | null = null;
    // an error in an effect or a render unmounts the whole form
    const errors: unknown[] = [];
    const onError = (e: ErrorEvent) => errors.push(e.error);
    window.addEventListener('error', onError);
    await act(async () => {
      root.render(
        <EnvironmentForm
          model={model}
          draft={{}}
          error={null}
          onChange={s => (state = s)}
          trans={loadTrans()}
        />
      );
    });
    const name = node.querySelector<HTMLInputElement>('input[name="name"]')!;
    await act(async () => type(name, 'sidebar-test'));
    const image = node.querySelector<HTMLInputElement>('input[name="image"]')!;
    await act(async () => type(image, 'python:3.12'));
    window.removeEventListener('error', onError);
    expect(errors).toEqual([]);
    expect(node.querySelector('select[name="host"]')).not.toBeNull();
    expect(state!.name).toBe('sidebar-test');
    expect(state!.image).toBe('python:3.12');
    expect(state!.host).toBe('fakegpu');
    root.unmount();
  });
});
