Feature: Input for the first stage and process groups
  A first stage may stop reading its stdin= input early without failing the
  run, and stopping a run stops every process a stage started.

  Scenario: A first stage that stops reading its input is not an error
    Given the native extension is available
    And CUPRUM_STREAM_BACKEND is "auto"
    When I run head -c 4 on a 1 MiB file
    Then the run succeeded with the first 4 bytes

  Scenario: A timeout stops a stage's background child as well
    Given a stage that starts a background child which ignores SIGTERM
    When the run times out
    Then neither the stage nor its child is left running
