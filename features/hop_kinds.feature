Feature: Hop kinds follow one dispatch table
  Every byte a run moves crosses a hop: the source hop (stdin= into the
  first stage), inter-stage hops (stage to stage) and the sink hop (the last
  stage's stdout into the result). Which mover serves each hop depends on
  CUPRUM_STREAM_BACKEND and on whether the hop's descriptors are usable, as
  the hop-kinds table in docs/cuprum-design.md says. These scenarios run
  real pipelines and observe every hop.

  Scenario Outline: Each hop kind follows its rule
    Given the native extension is available
    And CUPRUM_STREAM_BACKEND is "<backend>"
    And hop descriptors are <descriptors>
    When I run cat | cat on a 1 MiB <source> capturing <capture>
    Then the <kind> hop used the <pump> pump, forced fallback <forced>
    And the captured output is byte-exact

    Examples:
      | backend | descriptors | source | capture      | kind        | pump   | forced |
      | python  | usable      | file   | text         | source      | python | no     |
      | rust    | usable      | file   | text         | source      | rust   | no     |
      | rust    | usable      | buffer | text         | source      | python | no     |
      | rust    | unusable    | file   | text         | source      | python | yes    |
      | python  | usable      | file   | text         | inter-stage | python | no     |
      | rust    | usable      | file   | text         | inter-stage | rust   | no     |
      | rust    | unusable    | file   | text         | inter-stage | python | yes    |
      | python  | usable      | file   | text         | sink        | python | no     |
      | rust    | usable      | file   | text         | sink        | rust   | no     |
      | rust    | usable      | file   | bytes        | sink        | python | no     |
      | rust    | usable      | file   | echoed text  | sink        | python | no     |
      | rust    | usable      | file   | with timeout | sink        | python | no     |
      | rust    | unusable    | file   | text         | sink        | python | yes    |

  Scenario: Forcing Rust without the extension fails on a single command too
    Given the native extension is not installed
    And CUPRUM_STREAM_BACKEND is "rust"
    When I try to run cat on a small buffer
    Then an ImportError names CUPRUM_STREAM_BACKEND
    And no process was started
