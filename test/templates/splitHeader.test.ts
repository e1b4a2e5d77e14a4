// SPDX-License-Identifier: MIT
// splitHeader: the header of the common formats found with no format given, and lines with no header left whole.
import { describe, expect, it } from 'vitest';
import { splitHeader } from '../../src/templates/splitHeader.js';

const cases: Array<[string, string, string]> = [
  ['syslog', 'Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown', 'Jun 14 15:16:01 combo sshd(pam_unix)[19939]:'],
  ['syslog, kernel', 'Jul 27 14:42:00 combo kernel: Linux agpgart interface v0.100 (c) Dave Jones', 'Jul 27 14:42:00 combo kernel:'],
  ['RFC 5424-ish ISO time', '2024-03-01T12:00:03.120Z web-1 nginx[88]: upstream timed out', '2024-03-01T12:00:03.120Z web-1 nginx[88]:'],
  ['Apache error log', '[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties', '[Sun Dec 04 04:47:44 2005] [notice]'],
  ['log4j', '2015-10-18 18:01:48,963 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Executing with tokens:', '2015-10-18 18:01:48,963 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster:'],
  ['log4j, thread with blanks', '2015-10-18 18:03:51,298 INFO [RMCommunicator Allocator] org.apache.hadoop.ipc.Client: Retrying connect', '2015-10-18 18:03:51,298 INFO [RMCommunicator Allocator] org.apache.hadoop.ipc.Client:'],
  ['log4j with dashes, nested brackets', '2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200', '2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] -'],
  ['compact date, pid, level', '081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating', '081109 203615 148 INFO dfs.DataNode$PacketResponder:'],
  ['epoch and words before a level', '- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected', '- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO'],
  ['a level, then a message with a colon', '- 1118709955 2005.06.13 R10-M0-N1-C:J17-U11 2005-06-13-17.45.55.674418 R10-M0-N1-C:J17-U11 RAS KERNEL FATAL instruction address: 0x00004ed8', '- 1118709955 2005.06.13 R10-M0-N1-C:J17-U11 2005-06-13-17.45.55.674418 R10-M0-N1-C:J17-U11 RAS KERNEL FATAL'],
  ['ids and words closed by an epoch', '134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change: Component alt0 is unavailable', '134681 node-246 unix.hw state_change.unavailable 1077804742 1'],
  ['three words closed by an epoch', '2286759 full partition status 1061219795 -1 running', '2286759 full partition status 1061219795 -1'],
  ['never all header', '2556843 gige5 gige temperature 1072878243 1 warning', '2556843 gige5 gige temperature 1072878243 1'],
  ['pipes', '20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579', '20171223-22:15:29:606|Step_LSC|30002312|'],
  ['program and a dash', '[10.30 16:49:06] chrome.exe *64 - proxy.cse.cuhk.edu.hk:5070 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS', '[10.30 16:49:06] chrome.exe *64 -'],
  ['program with digits and a dash', '[10.30 21:13:09] AcroRd32.exe - proxy.cse.cuhk.edu.hk:5070 open through proxy', '[10.30 21:13:09] AcroRd32.exe -'],
  // Formats of Loghub systems not among the shared samples, and two common ones: never tuned on.
  ['Android logcat', '03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogsopening app wtoken = AppWindowToken{9f4ef63}', '03-17 16:13:38.811  1702  2395 D WindowManager:'],
  ['Spark', '17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered signal handlers for [TERM, HUP, INT]', '17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend:'],
  ['Thunderbird', '- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root', '- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]:'],
  ['Mac', 'Jul  1 09:00:55 calvisitor-10-105-160-95 kernel[0]: IOThunderboltSwitch<0>(0x0)::listenerCallback - Thunderbolt HPD packet', 'Jul  1 09:00:55 calvisitor-10-105-160-95 kernel[0]:'],
  ['access log', '127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326', '127.0.0.1 - - [10/Oct/2000:13:55:36 -0700]'],
  ['ISO time, [LEVEL], (thread)', '2024-01-02T03:04:05.123+01:00 [ERROR] (worker-3) db pool exhausted after 30s', '2024-01-02T03:04:05.123+01:00 [ERROR] (worker-3)'],
  ['JSON', '{"level":"info","ts":1700000000.1,"msg":"request done","status":200}', ''],
  ['no header', 'Failed password for root from 112.95.230.3 port 46577 ssh2', ''],
  ['no header, a colon late', 'Connection broken for id 188978561024, my id = 1, error: reset', ''],
  ['empty', '', ''],
];

describe('splitHeader()', () => {
  it.each(cases)('%s', (_name, line, header) => {
    const split = splitHeader(line);
    expect(split.header).toBe(header);
    expect(line.endsWith(split.message)).toBe(true);
    expect(split.message.length).toBeGreaterThan(line.length > 0 ? 0 : -1);
  });

  it('runs every case above', () => {
    expect(cases.length).toBe(26);
  });
});
