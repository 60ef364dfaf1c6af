Feature: Stream pathway selection
  Every inter-stage hop of a pipeline is moved by the pump that the
  CUPRUM_STREAM_BACKEND variable and the native extension's availability
  select. These scenarios run real pipelines and observe which pump moved
  the bytes.

  Scenario: Python selection uses the Python pump even with the extension
    Given the native extension is available
    And CUPRUM_STREAM_BACKEND is "python"
    When I pipe a 1 MiB payload through a 3-stage pipeline
    Then every hop used the python pump
    And the output is byte-exact and every stage succeeded

  Scenario: Auto selection uses the Rust pump when the extension is available
    Given the native extension is available
    And CUPRUM_STREAM_BACKEND is "auto"
    When I pipe a 1 MiB payload through a 3-stage pipeline
    Then every hop used the rust pump
    And the output is byte-exact and every stage succeeded

  Scenario: Auto selection falls back quietly without the extension
    Given the native extension is not installed
    And CUPRUM_STREAM_BACKEND is "auto"
    When I pipe a 1 MiB payload through a 3-stage pipeline
    Then every hop used the python pump
    And no warning was issued
    And the output is byte-exact and every stage succeeded

  Scenario: Forced fallback when the hop descriptors are unusable
    Given the native extension is available
    And CUPRUM_STREAM_BACKEND is "rust"
    And hop descriptors cannot be extracted
    When I pipe a 1 MiB payload through a 3-stage pipeline
    Then every hop used the python pump as a forced fallback
    And the output is byte-exact and every stage succeeded

  Scenario: Forcing Rust without the extension fails loudly
    Given the native extension is not installed
    And CUPRUM_STREAM_BACKEND is "rust"
    When I try to run a 2-stage pipeline
    Then an ImportError names CUPRUM_STREAM_BACKEND and the missing extension
    And no process is left running

  Scenario Outline: Backend values are normalised
    Given the native extension is available
    And CUPRUM_STREAM_BACKEND is "<value>"
    When I pipe a 1 MiB payload through a 3-stage pipeline
    Then every hop used the <pump> pump

    Examples:
      | value    | pump   |
      |  RUST    | rust   |
      | Python   | python |
      | AUTO     | rust   |

  Scenario: An unknown backend value is rejected before anything runs
    Given CUPRUM_STREAM_BACKEND is "turbo"
    When I try to run a 2-stage pipeline
    Then a ValueError quotes "turbo" and lists the valid values
    And no process is left running

  Scenario: A changed selection takes effect only after the caches are cleared
    Given the native extension is available
    And CUPRUM_STREAM_BACKEND is "python"
    And a pipeline has run once
    When CUPRUM_STREAM_BACKEND changes to "rust"
    And I pipe a 1 MiB payload through a 3-stage pipeline
    Then every hop used the python pump
    When the backend caches are cleared
    And I pipe a 1 MiB payload through a 3-stage pipeline
    Then every hop used the rust pump
