import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { confQuote, recoveryConfLines, shellQuote } from './recovery-settings.js';

void describe('recovery settings', () => {
  void it('quotes for postgresql.conf and for the shell', () => {
    assert.equal(confQuote("it's"), "'it''s'");
    assert.equal(shellQuote('/usr/bin/node'), '/usr/bin/node');
    assert.equal(shellQuote("/a b/it's"), "'/a b/it'\\''s'");
  });

  void it('writes the target, the action and the timeline', () => {
    const text = recoveryConfLines(
      {
        restoreCommand: 'holdfast --password-command \'cat /p\' pg wal-fetch "%f" "%p"',
        target: { kind: 'time', value: '2024-05-01 13:00:00+00' },
        action: 'pause',
        timeline: 'latest',
        port: 5499,
        archiveOff: true,
      },
      'test',
    );
    assert.match(
      text,
      /^restore_command = 'holdfast --password-command ''cat \/p'' pg wal-fetch "%f" "%p"'$/m,
    );
    assert.match(text, /^recovery_target_time = '2024-05-01 13:00:00\+00'$/m);
    assert.match(text, /^recovery_target_action = 'pause'$/m);
    assert.match(text, /^recovery_target_timeline = 'latest'$/m);
    assert.match(text, /^port = 5499$/m);
    assert.match(text, /^archive_mode = 'off'$/m);
    const latest = recoveryConfLines(
      { restoreCommand: 'x', target: { kind: 'latest' }, action: 'promote', timeline: '2' },
      't',
    );
    assert.doesNotMatch(latest, /recovery_target_action|recovery_target_time /);
  });
});
