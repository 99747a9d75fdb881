"""BMC peers shared per test module: ipmi_sim and the Redfish test server."""

from __future__ import annotations

import pytest

from lab.bmc import IpmiSim
from lab.bmc_redfish import RedfishServer
from lab.proc import Lab


@pytest.fixture(scope="module")
def sim(module_lab: Lab) -> IpmiSim:
    return IpmiSim(module_lab, name="bmc-test-sim")


@pytest.fixture(scope="module")
def rfs(module_lab: Lab) -> RedfishServer:
    return RedfishServer(module_lab, name="bmc-test-redfish")
