Feature: Core pipelines
  cuprum runs allowlisted programs directly, never through a shell, and
  connects them stdout-to-stdin into pipelines whose every stage is
  reported. Every scenario runs real processes.

  Scenario: Running a single command passes its arguments verbatim
    When I run: echo "hello world" '$HOME' ';' '*'
    Then the run succeeds
    And the output lines are "hello world $HOME ; *"
    And the stages exited with statuses 0

  Scenario: A three-stage pipeline
    When I run: printf 'c\nb\na\n' | sort | tr a-z A-Z
    Then the run succeeds
    And the output lines are "A", "B", "C"
    And the stages exited with statuses 0, 0, 0

  Scenario: An unknown program is rejected before anything runs
    When I try to build a command for "rm"
    Then it is rejected as an unknown program
    And the error lists the allowed programs
    And no process was started

  Scenario: A downstream stage that stops reading early
    When I run: yes | head -n 1
    Then the run succeeds
    And the output lines are "y"
    And the stages exited with statuses -13, 0

  Scenario: A failing stage is reported
    When I run: printf 'a\nb\n' | grep zzz | wc -l
    Then the run fails at stage 2
    And the output lines are "0"
    And the stages exited with statuses 0, 1, 0

  Scenario: A pipeline that overruns its timeout is stopped
    When I run with a timeout of 0.5 seconds: yes | tr y n | sleep 30
    Then the run times out
    And no stage is left running
