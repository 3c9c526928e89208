import { ServerConnection } from '@jupyterlab/services';

import {
  checkName,
  gpuModeOf,
  initialState,
  parseEnv,
  saveError,
  parseEntrypoint,
  toFields
} from '../src/formState';
import { responseError } from '../src/request';
import { loadTrans } from '../src/translation';

const trans = loadTrans();

function failed(status: number, body: object) {
  return responseError(
    { status, ok: false, statusText: '', url: '' } as Response,
    JSON.stringify(body)
  );
}

describe('form state', () => {
  // which field a message is about is the server's to say (tests/test_error_fields.py): never guessed from its words
  it('puts a failed save at the field the server named, else on the whole form', () => {
    expect(
      saveError(failed(400, { message: 'bad', field: 'cpus' }), trans)
    ).toEqual({
      field: 'cpus',
      message: 'bad'
    });
    expect(
      saveError(failed(400, { message: 'invalid memory "lots"' }))
    ).toEqual({
      field: 'form',
      message: 'invalid memory "lots"'
    });
    expect(
      saveError(failed(403, { message: 'image x not allowed', field: 'image' }))
        .field
    ).toBe('image');
    // other failures are about the whole form
    expect(
      saveError(failed(500, { message: 'invalid memory', field: 'memory' }))
        .field
    ).toBe('form');
    expect(
      saveError(new ServerConnection.NetworkError(new TypeError('down'))).field
    ).toBe('form');
  });

  it('reads GPU requests into the form’s choices', () => {
    expect(gpuModeOf(undefined)).toBe('none');
    expect(gpuModeOf('0')).toBe('none');
    expect(gpuModeOf('all')).toBe('all');
    expect(gpuModeOf('2')).toBe('count');
    expect(gpuModeOf('device=1,3')).toBe('devices');
    expect(gpuModeOf('"device=GPU-abc"')).toBe('other');
  });

  it('round-trips an environment through the form', () => {
    const s = initialState(
      {
        name: 'torch',
        image: 'torch:2',
        gpus: 'device=1,3',
        memory: '8g',
        cpus: 4,
        mounts: ['/data:/data:ro'],
        env: { A: '1', B: 'x=y' }
      },
      'gpubox'
    );
    expect(s.host).toBe('gpubox');
    expect(s.devices).toEqual(['1', '3']);
    expect(s.env).toBe('A=1\nB=x=y');
    const fields = toFields(s);
    expect(fields).toMatchObject({
      image: 'torch:2',
      host: 'gpubox',
      gpus: 'device=1,3',
      memory: '8g',
      cpus: 4,
      mounts: ['/data:/data:ro'],
      env: { A: '1', B: 'x=y' }
    });
  });

  it('sends what the server must judge as typed', () => {
    const s = {
      ...initialState({}, ''),
      cpus: 'four',
      gpuMode: 'count' as const,
      gpuCount: ' 2 '
    };
    expect(s.host).toBe('local');
    expect(toFields(s)).toMatchObject({ cpus: 'four', gpus: '2' });
    expect(toFields({ ...s, cpus: '' }).cpus).toBe(0);
    expect(toFields({ ...s, gpuMode: 'devices', devices: [] }).gpus).toBe(
      'device='
    );
    expect(parseEnv('KEY\n\n A=1 ')).toEqual({ KEY: '', A: '1' });
  });

  it('sends the entrypoint as null, a list, or text for the server to judge', () => {
    const s = initialState({ entrypoint: [] }, 'local');
    expect(s.entrypoint).toBe('[]');
    expect(toFields(s).entrypoint).toEqual([]);
    expect(initialState({ entrypoint: null }, 'local').entrypoint).toBe('');
    expect(toFields({ ...s, entrypoint: ' ' }).entrypoint).toBeNull();
    expect(toFields({ ...s, entrypoint: 'tini -g --' }).entrypoint).toEqual([
      'tini',
      '-g',
      '--'
    ]);
    expect(parseEntrypoint('["a b"]')).toEqual(['a b']);
    expect(parseEntrypoint('[oops')).toBe('[oops');
  });

  it('asks for a name only when creating', () => {
    const s = initialState({}, 'local');
    expect(checkName(s, undefined, trans)?.field).toBe('name');
    expect(checkName(s, 'existing', trans)).toBeNull();
    expect(checkName({ ...s, name: ' x ' }, undefined, trans)).toBeNull();
  });
});
