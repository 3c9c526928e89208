import { ServerConnection } from '@jupyterlab/services';

import {
  parseMessage,
  sizeMessage,
  stdinMessage,
  terminalUrl
} from '../src/terminalProtocol';

describe('terminal protocol (terminado framing)', () => {
  it('frames stdin and size as the server reads them', () => {
    expect(JSON.parse(stdinMessage('echo "hi"\r'))).toEqual([
      'stdin',
      'echo "hi"\r'
    ]);
    expect(JSON.parse(sizeMessage(30, 90, 600, 900))).toEqual([
      'set_size',
      30,
      90,
      600,
      900
    ]);
  });

  it('parses what the server sends and ignores the rest', () => {
    expect(parseMessage('["stdout", "42\\r\\n"]')).toEqual({
      kind: 'stdout',
      text: '42\r\n'
    });
    expect(parseMessage('["setup", {}]')).toEqual({ kind: 'setup' });
    expect(parseMessage('["disconnect", 1]')).toEqual({ kind: 'disconnect' });
    expect(parseMessage('["stdout", 3]')).toBeNull();
    expect(parseMessage('["other"]')).toBeNull();
    expect(parseMessage('not json')).toBeNull();
    expect(parseMessage(new ArrayBuffer(2))).toBeNull();
  });

  it('builds the websocket URL with the token', () => {
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/lab-base/',
      wsUrl: 'ws://localhost:8888/lab-base/',
      token: 'sec ret',
      appendToken: true
    });
    expect(terminalUrl(settings, 'a/b')).toBe(
      'ws://localhost:8888/lab-base/gpu-kernels/api/kernels/a%2Fb/terminal?token=sec%20ret'
    );
    const noToken = ServerConnection.makeSettings({
      wsUrl: 'ws://h/',
      token: '',
      appendToken: false
    });
    expect(terminalUrl(noToken, 'k')).toBe(
      'ws://h/gpu-kernels/api/kernels/k/terminal'
    );
  });
});
